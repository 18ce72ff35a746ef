import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { closedPort } from './ports.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * A private `redis-server` on a free port, without persistence, that the test may kill and start
 * again: it comes back empty, as a Redis restarted without persistence or an empty replica after
 * a failover. The shared Redis is never touched. Stopped at teardown.
 */
export async function startRedisServer (t: Teardown) {
  const port = await closedPort()
  let child: ChildProcess | undefined

  async function start (): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    child = proc
    await new Promise<void>((resolve, reject) => {
      proc.once('error', reject)
      proc.once('spawn', () => resolve())
    })
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => {})
    try {
      for (let i = 0; ; i++) {
        try {
          await probe.connect()
          await probe.ping()
          return
        } catch (err) {
          if (i > 100) throw err
          probe.disconnect()
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    } finally {
      probe.disconnect()
    }
  }

  /** SIGKILL: no shutdown, no save. Resolves once the process is gone. */
  async function kill (): Promise<void> {
    const proc = child
    child = undefined
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve())
      proc.kill('SIGKILL')
    })
  }

  await start()
  t.teardown(kill)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    /** Starts it again on the same port, empty. */
    start
  }
}

export type RedisServer = Awaited<ReturnType<typeof startRedisServer>>

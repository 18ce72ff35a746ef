import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { sleep } from './stack.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** The repository root, and the built entry points as deployments run them. */
export const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url))
export const API_BIN = fileURLToPath(new URL('../../../dist/bin.js', import.meta.url))
export const WORKER_BIN = fileURLToPath(new URL('../../../../../packages/worker/dist/bin.js', import.meta.url))
export const START_SCRIPT = fileURLToPath(new URL('../../../../../scripts/start.mjs', import.meta.url))

/** A log line: pino's JSON when it parses (`msg`, `name`, `pid`, …), else just the text. */
export type LogLine = Record<string, any> & { raw: string }

export interface Service {
  child: ChildProcess
  /** Every line of stdout and stderr so far, in arrival order. */
  lines: LogLine[]
  /** stdout and stderr as text (for assertion messages and crash checks). */
  output: () => string
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>
  readonly alive: boolean
  /** The first line (present or future) matching `predicate`. @throws after `timeoutMs` */
  waitForLine: (predicate: (line: LogLine) => boolean, timeoutMs: number, what: string) => Promise<LogLine>
  /** SIGTERM, then SIGKILL after `graceMs` if it is still running. */
  stop: (graceMs?: number) => Promise<number | string>
}

/**
 * Runs a node script as a child process with `env` on top of this process's environment, keeping
 * its output. Killed (SIGKILL) at teardown if still running.
 */
export function spawnService (
  t: Teardown,
  script: string,
  env: Record<string, string>,
  options: SpawnOptions = {}
): Service {
  return spawnCommand(t, process.execPath, [script], env, options)
}

/** As `spawnService`, for any command (`pnpm start`). */
export function spawnCommand (
  t: Teardown,
  command: string,
  args: string[],
  env: Record<string, string>,
  options: SpawnOptions = {}
): Service {
  const script = [command, ...args].join(' ')
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options
  })
  const lines: LogLine[] = []
  const waiters = new Set<{ predicate: (l: LogLine) => boolean, resolve: (l: LogLine) => void }>()
  const take = (stream: NodeJS.ReadableStream | null) => {
    let buffered = ''
    stream?.setEncoding('utf8')
    stream?.on('data', (chunk: string) => {
      buffered += chunk
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const raw of parts) {
        if (!raw) continue
        let line: LogLine
        try { line = { ...JSON.parse(raw), raw } } catch { line = { raw } }
        lines.push(line)
        for (const w of waiters) if (w.predicate(line)) { waiters.delete(w); w.resolve(line) }
      }
    })
  }
  take(child.stdout)
  take(child.stderr)
  let exitedWith: number | string | undefined
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => {
    exitedWith = code ?? signal ?? 'unknown'
    resolve(exitedWith)
  }))
  const service: Service = {
    child,
    lines,
    output: () => lines.map((l) => l.raw).join('\n'),
    exited,
    get alive () { return exitedWith === undefined },
    async waitForLine (predicate, timeoutMs, what) {
      const seen = lines.find(predicate)
      if (seen) return seen
      let waiter: { predicate: (l: LogLine) => boolean, resolve: (l: LogLine) => void } | undefined
      let timer: NodeJS.Timeout | undefined
      try {
        return await Promise.race([
          new Promise<LogLine>((resolve) => { waiter = { predicate, resolve }; waiters.add(waiter) }),
          exited.then((code) => { throw new Error(`${script} exited (${code}) before ${what}:\n${service.output().slice(-2000)}`) }),
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${service.output().slice(-2000)}`)), timeoutMs)
          })
        ])
      } finally {
        if (waiter) waiters.delete(waiter)
        clearTimeout(timer)
      }
    },
    async stop (graceMs = 15_000) {
      if (!service.alive) return exited
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      try { return await exited } finally { clearTimeout(timer) }
    }
  }
  t.teardown(async () => {
    if (service.alive) child.kill('SIGKILL')
    await exited
    // Whatever it started (a start script's api and worker) must not outlive the test either.
    for (const pid of new Set(
      lines.flatMap((l) => [Number(l.pid), Number(l.childPid)]).filter((pid) => pid > 0 && pid !== process.pid)
    )) {
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL')
    }
  })
  return service
}

/** How the service ended, or 'still running' after `ms` (no timer left behind either way). */
export async function exitWithin (service: Service, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([service.exited, new Promise<string>((resolve) => { timer = setTimeout(resolve, ms, 'still running') })])
  } finally {
    clearTimeout(timer)
  }
}

/** The `http://host:port` Fastify logged when it started listening. */
export async function listeningUrl (service: Service, timeoutMs = 20_000): Promise<string> {
  const line = await service.waitForLine((l) => typeof l.msg === 'string' && /^Server listening at http:\/\/127\.0\.0\.1:/.test(l.msg), timeoutMs, 'the api to listen')
  return (line.msg as string).replace(/^Server listening at /, '')
}

/** Whether `pid` is still a running process (signal 0 probes without sending anything). */
export function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Waits until none of `pids` is running. @throws naming the survivors after `timeoutMs` */
export async function waitForExit (pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const alive = pids.filter(pidAlive)
    if (alive.length === 0) return
    if (Date.now() >= deadline) throw new Error(`still running after ${timeoutMs} ms: ${alive.join(', ')}`)
    await sleep(50)
  }
}

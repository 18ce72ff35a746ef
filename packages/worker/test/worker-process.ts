import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { TEST_REDIS_URL, fixturePath, waitFor, type TestContext } from './helper.js'

const SCRIPT = fileURLToPath(fixturePath('worker-process.mjs'))
const LOCK_MS = 2000

export interface WorkerProcess {
  child: ChildProcess
  lines: string[]
  exited: Promise<unknown>
  waitForLine: (line: string, timeoutMs?: number) => Promise<void>
}

/**
 * The built worker in a process of its own (`fixtures/worker-process.mjs`) on the test's database
 * and prefix; `block`: its grant never returns. `env` adds the fixture's other settings.
 */
export function spawnWorker (
  ctx: TestContext,
  block: boolean,
  live: Set<ChildProcess>,
  env: NodeJS.ProcessEnv = {}
): WorkerProcess {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...env,
    DATABASE_URL: ctx.dbUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: ctx.prefix,
    LOCK_DURATION_MS: String(LOCK_MS)
  }
  if (block) childEnv.BLOCK = '1'
  else delete childEnv.BLOCK
  const child = spawn(process.execPath, [SCRIPT], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  const lines: string[] = []
  let stderr = ''
  let buffered = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = once(child, 'exit').then((args) => { live.delete(child); return args })
  return {
    child,
    lines,
    exited,
    waitForLine: (line, timeoutMs = 10_000) => waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`worker process exited (${child.exitCode}): ${stderr}`)
        return lines.includes(line)
      },
      timeoutMs,
      () => `"${line}" from the worker process (stdout so far: ${JSON.stringify(lines)}, stderr: ${stderr})`
    )
  }
}

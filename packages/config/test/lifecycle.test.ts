// closeGracefully in a real child process: signals as a terminal and pnpm deliver them, and the
// death of the supervisor that started the process.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { sleep } from '@fp-webhooks/testing'
import t from 'tap'
import { DUPLICATE_SIGNAL_MS } from '../src/lifecycle.js'

const CHILD = fileURLToPath(new URL('./fixtures/graceful-child.mjs', import.meta.url))

function startChild (env: Record<string, string> = {}, ipc = false) {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc' as const] : [])] })
  const msgs: string[] = []
  let buffered = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffered += d
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    for (const p of parts) if (p) msgs.push((JSON.parse(p) as { msg: string }).msg)
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const ready = new Promise<void>((resolve) => {
    const check = setInterval(() => { if (msgs.includes('ready')) { clearInterval(check); resolve() } }, 10)
  })
  return { child, msgs, exited, ready }
}

const count = (msgs: string[], re: RegExp) => msgs.filter((m) => re.test(m)).length

t.test('the same signal twice in quick succession (Ctrl-C under pnpm) drains once and exits 0', async (t) => {
  const c = startChild()
  await c.ready
  c.child.kill('SIGINT')
  c.child.kill('SIGINT')
  await sleep(50)
  c.child.kill('SIGINT')
  t.equal(await c.exited, 0, 'exit 0')
  t.equal(count(c.msgs, /shutting down/), 1, 'one drain')
  t.equal(count(c.msgs, /^drained$/), 1, 'the drain completed')
  t.equal(count(c.msgs, /second signal/), 0, 'the repeats were taken as one interrupt')
})

t.test(`a second signal after ${DUPLICATE_SIGNAL_MS} ms exits at once, without finishing the drain`, async (t) => {
  const c = startChild({ DRAIN_MS: '4000' })
  await c.ready
  c.child.kill('SIGTERM')
  await sleep(DUPLICATE_SIGNAL_MS + 300)
  c.child.kill('SIGINT')
  t.equal(await c.exited, 1, 'exit 1')
  t.equal(count(c.msgs, /second signal \(SIGINT\)/), 1, 'says why')
  t.equal(count(c.msgs, /^drained$/), 0, 'did not wait for the drain')
})

t.test('a drain longer than the timeout ends in exit 1', async (t) => {
  const c = startChild({ DRAIN_MS: '3000', TIMEOUT_MS: '300' })
  await c.ready
  c.child.kill('SIGTERM')
  t.equal(await c.exited, 1)
  t.equal(count(c.msgs, /timed out/), 1)
})

t.test('started over IPC: tells the parent it is ready, and drains when the parent goes away', async (t) => {
  const c = startChild({}, true)
  const message = await new Promise((resolve) => c.child.once('message', resolve))
  t.same(message, { ready: 'child' }, 'the ready message')
  await c.ready
  c.child.disconnect()
  t.equal(await c.exited, 0, 'exit 0')
  t.equal(count(c.msgs, /has gone/), 1, 'says why')
  t.equal(count(c.msgs, /^drained$/), 1, 'drained')
})

t.test('started over IPC, the channel does not keep the process alive once it has drained', async (t) => {
  const c = startChild({}, true)
  await c.ready
  c.child.kill('SIGTERM')
  t.equal(await c.exited, 0, 'exits 0 with the parent still connected')
  t.equal(count(c.msgs, /^drained$/), 1)
})

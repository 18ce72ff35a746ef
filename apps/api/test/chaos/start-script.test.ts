// `pnpm start` (scripts/start.mjs) as an operator uses it: Ctrl-C (SIGINT to the terminal's process
// group), one SIGTERM to its pid or to pnpm's, a worker that dies, the script itself killed, a
// missing secret. Each run on its own database, Redis prefix and a free port.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { createIds, fulfilmentEvent } from './helpers/payloads.js'
import { START_SCRIPT, exitWithin, listeningUrl, pidAlive, spawnCommand, spawnService, waitForExit, type LogLine, type Service } from './helpers/processes.js'
import { SECRET, TEST_PG_URL, TEST_REDIS_URL, WEBHOOK, createEnv, sleep } from './helpers/stack.js'

interface Teardown { teardown: (fn: () => unknown) => void }

const nextId = createIds(Math.floor(Math.random() * 1_000_000) * 1000)
const HAS_PNPM = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0

const count = (s: Service, predicate: (l: LogLine) => boolean) => s.lines.filter(predicate).length
const isDrainStart = (name: string) => (l: LogLine) => l.name === name && typeof l.msg === 'string' && /shutting down/.test(l.msg)
/** The start script's own line: the child told it, over IPC, that it is serving. */
const isReady = (name: string) => (l: LogLine) => l.name === 'start' && l.msg === `${name} ready`

/** The environment of one `pnpm start` run: its own database, prefix and port, quick restarts. */
async function startEnv (t: Teardown, extra: Record<string, string> = {}) {
  const env = await createEnv(t)
  return {
    env,
    vars: {
      DATABASE_URL: env.dbUrl,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: env.prefix,
      FP_WEBHOOK_SECRET: SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '5000',
      FP_FULFILMENT_WAIT_MS: '3000',
      START_RESTART_DELAY_MS: '200',
      START_RESTART_MAX_DELAY_MS: '400',
      START_HEALTHY_RUN_MS: '2500',
      ...extra
    }
  }
}

/** Waits for both children to be ready; returns the api's URL and the children's pids. */
async function running (s: Service) {
  const baseUrl = await listeningUrl(s, 60_000)
  const api = await s.waitForLine(isReady('api'), 60_000, 'the api to be ready')
  const worker = await s.waitForLine(isReady('worker'), 60_000, 'the worker to be ready')
  return { baseUrl, apiPid: Number(api.childPid), workerPid: Number(worker.childPid) }
}

/** Both children drained exactly once, exited, and left no process behind. */
async function assertDrainedOnce (t: Test, s: Service, pids: number[]) {
  const code = await exitWithin(s, 30_000)
  t.equal(code, 0, 'the start script exits 0 once both have drained')
  t.equal(count(s, isDrainStart('api')), 1, 'the api started draining exactly once')
  t.equal(count(s, isDrainStart('worker')), 1, 'the worker started draining exactly once')
  t.equal(count(s, (l) => l.name === 'worker' && l.msg === 'worker stopped'), 1, 'the worker finished draining')
  t.notMatch(s.output(), /second SIG|exiting without draining/, 'no child saw a second signal')
  await waitForExit(pids, 10_000).catch(() => {})
  t.same(pids.filter(pidAlive), [], 'no api or worker process left running')
}

async function healthy (baseUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200
  } catch {
    return false
  }
}

t.test('Ctrl-C (SIGINT to the process group) drains api and worker exactly once', async (t) => {
  const { vars } = await startEnv(t)
  // detached: the script leads a process group of its own, as a shell's foreground job does.
  const s = spawnService(t, START_SCRIPT, vars, { detached: true })
  const { apiPid, workerPid } = await running(s)
  process.kill(-s.child.pid!, 'SIGINT')
  await assertDrainedOnce(t, s, [apiPid, workerPid])
})

t.test('through pnpm: SIGTERM to pnpm\'s pid, and Ctrl-C to its group, drain both once with no orphans', { skip: !HAS_PNPM && 'pnpm is not on PATH', jobs: 2 }, async (t) => {
  for (const how of ['SIGTERM to pnpm', 'SIGINT to the group'] as const) {
    t.test(how, async (t) => {
      const { vars } = await startEnv(t)
      // pnpm leads a process group of its own, as a shell's foreground job does.
      const pnpm = spawnCommand(t, 'pnpm', ['start'], vars, { detached: true })
      const { apiPid, workerPid } = await running(pnpm)
      if (how === 'SIGTERM to pnpm') pnpm.child.kill('SIGTERM')
      else process.kill(-pnpm.child.pid!, 'SIGINT')
      const code = await exitWithin(pnpm, 30_000)
      t.not(code, 'still running', `pnpm exits (${code})`)
      t.equal(count(pnpm, isDrainStart('api')), 1, 'the api started draining exactly once')
      t.equal(count(pnpm, isDrainStart('worker')), 1, 'the worker started draining exactly once')
      t.equal(count(pnpm, (l) => l.name === 'worker' && l.msg === 'worker stopped'), 1, 'the worker finished draining')
      t.notMatch(pnpm.output(), /second SIG|exiting without draining/, 'no child saw a second signal')
      await waitForExit([apiPid, workerPid], 15_000).catch(() => {})
      t.same([apiPid, workerPid].filter(pidAlive), [], 'no orphaned api or worker')
    })
  }
})

t.test('a worker that dies is restarted with capped backoff while the api keeps answering; then one SIGTERM drains both', async (t) => {
  const { vars, env } = await startEnv(t)
  const s = spawnService(t, START_SCRIPT, vars, { detached: true })
  const { baseUrl, apiPid, workerPid } = await running(s)

  let failedChecks = 0
  let checks = 0
  const probing = { on: true }
  const probe = (async () => {
    while (probing.on) {
      checks++
      if (!await healthy(baseUrl)) failedChecks++
      await sleep(100)
    }
  })()

  // Three kills in a row, each before the new worker has run START_HEALTHY_RUN_MS: 200, 400, 400.
  const pids = [workerPid]
  for (let k = 0; k < 3; k++) {
    process.kill(pids.at(-1)!, 'SIGKILL')
    const ready = await s.waitForLine((l) => isReady('worker')(l) && !pids.includes(Number(l.childPid)), 30_000, `worker #${pids.length + 1} to be ready`)
    pids.push(Number(ready.childPid))
  }
  const restarts = s.lines.filter((l) => l.name === 'start' && l.process === 'worker' && /restarting/.test(l.msg ?? ''))
  t.same(restarts.map((l) => l.delayMs), [200, 400, 400], 'each restart logged, the delay doubling up to the cap')
  t.ok(restarts.every((l) => l.signal === 'SIGKILL'), 'each restart names how the worker ended')

  // A healthy run resets the backoff.
  await sleep(Number(vars.START_HEALTHY_RUN_MS) + 500)
  process.kill(pids.at(-1)!, 'SIGKILL')
  const ready = await s.waitForLine((l) => isReady('worker')(l) && !pids.includes(Number(l.childPid)), 30_000, 'the worker after a healthy run to be ready')
  pids.push(Number(ready.childPid))
  const last = s.lines.filter((l) => l.name === 'start' && l.process === 'worker' && /restarting/.test(l.msg ?? '')).at(-1)
  t.equal(last?.delayMs, 200, 'after a healthy run the next restart waits the first delay again')

  probing.on = false
  await probe
  t.equal(failedChecks, 0, `the api answered /healthz throughout (${checks} checks)`)
  t.ok(pidAlive(apiPid), 'the same api process is still running')
  t.equal(count(s, isReady('api')), 1, 'the api was never restarted')

  // The last worker grants.
  const body = fulfilmentEvent(nextId, { unit: 'credits', amount: 3 })
  const res = await fetch(baseUrl + WEBHOOK, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
  t.equal(res.status, 200, 'a fulfilment is granted by the restarted worker within the wait')
  const [row] = await env.sql`select count(*)::int as n from ledger_entries where fulfilment_id = ${body.data.id}`
  t.equal(row!.n, 1, 'one ledger row')

  // One SIGTERM to the script's pid (as a service manager sends it) drains both once.
  s.child.kill('SIGTERM')
  await assertDrainedOnce(t, s, [apiPid, ...pids])
})

t.test('the start script killed outright: api and worker drain and exit by themselves', async (t) => {
  const { vars } = await startEnv(t)
  const s = spawnService(t, START_SCRIPT, vars, { detached: true })
  const { apiPid, workerPid } = await running(s)
  s.child.kill('SIGKILL')
  await s.exited
  await waitForExit([apiPid, workerPid], 20_000).catch(() => {})
  t.same([apiPid, workerPid].filter(pidAlive), [], 'no orphaned api or worker')
  await sleep(200)
  t.equal(count(s, isDrainStart('api')), 1, 'the api drained')
  t.equal(count(s, (l) => l.name === 'worker' && l.msg === 'worker stopped'), 1, 'the worker drained')
})

t.test('configuration is checked before the database is created or migrated', async (t) => {
  const name = `fpw_absent_${randomBytes(5).toString('hex')}`
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} })
  t.teardown(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  })
  const s = spawnService(t, START_SCRIPT, { DATABASE_URL: url.toString(), REDIS_URL: TEST_REDIS_URL, FP_WEBHOOK_SECRET: '', PORT: '0' })
  const code = await exitWithin(s, 30_000)
  t.equal(code, 1, 'exits 1')
  t.match(s.output(), /Invalid configuration: .*FP_WEBHOOK_SECRET is required/, 'names the missing variable')
  t.notMatch(s.output(), /migrations applied/, 'no migration ran')
  t.equal((await admin`select 1 from pg_database where datname = ${name}`).length, 0, 'the database was not created')
})

import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { grantJobId } from '@fp-webhooks/queue'
import { createIds, fulfilmentEvent } from './helpers/payloads.js'
import { createRng } from './helpers/random.js'
import { TEST_REDIS_URL, createEnv, inject, is5xx, sleep, startApi, startWorker, tally, waitFor, type Answer } from './helpers/stack.js'

const SCRIPT = fileURLToPath(new URL('./fixtures/kill-worker.mjs', import.meta.url))
const KILLS = Number(process.env.CHAOS_KILLS ?? 20)
const LOCK_MS = 1000
const LIVE_WORKERS = 2
const WAVE = 8

interface WorkerProcess {
  n: number
  child: ChildProcess
  ready: boolean
  /** Grants whose function started and has not returned: the transaction is open. */
  inGrant: Set<string>
  grantsStarted: number
  exited: Promise<void>
  stderr: string
}

t.test(`${KILLS} SIGKILLs of worker processes in the middle of grants: no double grant, no lost grant`, async (t) => {
  if (!Number.isInteger(KILLS) || KILLS < 1) throw new TypeError(`CHAOS_KILLS must be a positive integer, got ${process.env.CHAOS_KILLS}`)
  const rng = createRng(t)
  const nextId = createIds(rng.int(1, 1_000_000) * 1000)
  const env = await createEnv(t)
  // The api answers at once (no wait): the grants happen in the worker processes.
  const api = await startApi(t, env, { env: { FP_FULFILMENT_WAIT_MS: '0' } })

  const live = new Set<WorkerProcess>()
  let spawned = 0
  t.teardown(async () => {
    for (const w of live) w.child.kill('SIGKILL')
    await Promise.all([...live].map((w) => w.exited))
  })
  const spawnWorker = (): WorkerProcess => {
    const n = ++spawned
    const child = spawn(process.execPath, [SCRIPT], {
      env: {
        ...process.env,
        DATABASE_URL: env.dbUrl,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: env.prefix,
        LOCK_DURATION_MS: String(LOCK_MS),
        SEED: String((rng.seed + n) >>> 0)
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const w: WorkerProcess = { n, child, ready: false, inGrant: new Set(), grantsStarted: 0, exited: Promise.resolve(), stderr: '' }
    w.exited = new Promise<void>((resolve) => child.once('exit', () => { live.delete(w); resolve() }))
    let buffered = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        const [what, id] = line.split(' ')
        if (what === 'ready') w.ready = true
        else if (what === 'granting') { w.inGrant.add(id!); w.grantsStarted++ } else if (what === 'granted') w.inGrant.delete(id!)
      }
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { w.stderr = (w.stderr + chunk).slice(-4000) })
    live.add(w)
    return w
  }

  const fulfilments = new Map<number, number>()
  const answers: Answer[] = []
  const deliverWave = async () => {
    const wave = Array.from({ length: WAVE }, () => {
      const amount = rng.int(1, 50)
      const body = fulfilmentEvent(nextId, { unit: rng.pick(['free_months', 'credits', 'points']), amount, custId: `kill_${rng.int(1, 10)}` })
      fulfilments.set(body.data.id, amount)
      return body
    })
    answers.push(...await Promise.all(wave.map((body) => inject(api, body))))
  }

  for (let i = 0; i < LIVE_WORKERS; i++) spawnWorker()
  await waitFor(() => [...live].every((w) => w.ready), 30_000, () => `the first worker processes to start (stderr: ${[...live].map((w) => w.stderr).join(' | ')})`)

  const started = Date.now()
  let killsInsideGrant = 0
  let openTransactionsKilled = 0
  for (let k = 0; k < KILLS; k++) {
    await deliverWave()
    // Let the grants get going, then pick a moment at random.
    await sleep(rng.int(50, 400))
    const busy = [...live].filter((w) => w.ready && w.inGrant.size > 0)
    const candidates = busy.length > 0 ? busy : [...live].filter((w) => w.ready)
    const victim = candidates.length > 0 ? rng.pick(candidates) : rng.pick([...live])
    if (victim.inGrant.size > 0) { killsInsideGrant++; openTransactionsKilled += victim.inGrant.size }
    victim.child.kill('SIGKILL')
    await victim.exited
    spawnWorker()
    // Keep at least one worker able to take over the killed one's jobs before the next kill.
    await waitFor(() => [...live].filter((w) => w.ready).length >= 1, 30_000, 'a ready worker process')
  }
  const killLoopMs = Date.now() - started

  // The dead workers' jobs are taken over once their locks expire. A job whose workers were killed
  // twice is failed by BullMQ ("stalled more than allowable limit"): the outbox sweeper, which the
  // running system runs every SWEEP_INTERVAL_MS, is what queues those again.
  const expected = [...fulfilments.keys()]
  const notGranted = async () => (await env.sql`select id::bigint as id, state, attempts, last_error from fulfilments where state <> 'granted'`)
  let stuck: Awaited<ReturnType<typeof notGranted>> = []
  const recoveryStarted = Date.now()
  await waitFor(async () => (stuck = await notGranted()).length === 0, 6000, 'every fulfilment to be granted').catch(() => {})
  const takenOverMs = Date.now() - recoveryStarted
  const leftForSweeper = stuck.length
  const sweeper = await startWorker(t, env, { staleAfterMs: 0, lockDurationMs: LOCK_MS })
  const stalledOut = await Promise.all(stuck.map(async (f) => {
    const job = await sweeper.queues.grants.getJob(grantJobId(Number(f.id)))
    return job ? `${await job.getState()}${job.failedReason ? `: ${job.failedReason}` : ''}` : 'no job'
  }))
  await sweeper.sweep()
  await waitFor(async () => (stuck = await notGranted()).length === 0, 20_000, 'every fulfilment to be granted after a sweep').catch(() => {})
  const recoveryMs = Date.now() - recoveryStarted
  t.equal(stuck.length, 0, 'every fulfilment ends granted (after the takeover and one sweep)', { stuck: stuck.slice(0, 10) })

  const ledger = await env.sql`select fulfilment_id::bigint as id, count(*)::int as n, sum(amount)::bigint as amount from ledger_entries group by fulfilment_id`
  const byId = new Map(ledger.map((r) => [Number(r.id), r]))
  const doubled = ledger.filter((r) => r.n > 1)
  const lost = expected.filter((id) => !byId.has(id))
  const [balance] = await env.sql`select coalesce(sum(amount), 0)::bigint as total from ledger_entries`
  const expectedTotal = [...fulfilments.values()].reduce((s, a) => s + a, 0)
  const fiveXX = answers.filter((a) => is5xx(a.statusCode))
  t.equal(doubled.length, 0, 'no fulfilment has more than one ledger row', { doubled: doubled.slice(0, 5) })
  t.equal(lost.length, 0, 'no fulfilment lost: every one has its ledger row', { lost: lost.slice(0, 10) })
  t.equal(Number(balance!.total), expectedTotal, 'ledger balance == sum of the fulfilments\' amounts')
  t.ok(expected.every((id) => Number(byId.get(id)?.amount) === fulfilments.get(id)), 'each ledger row holds its fulfilment\'s amount')
  t.equal(fiveXX.length, 0, 'no delivery answered 5xx')
  const [attempts] = await env.sql`select max(attempts)::int as max, sum(attempts)::int as total from fulfilments`

  t.comment(`kills: ${KILLS} SIGKILLs (${killsInsideGrant} inside a grant transaction, ${openTransactionsKilled} open grant transactions cut), ${spawned} worker processes started, kill loop ${killLoopMs} ms`)
  t.comment(`deliveries sent: ${answers.length} fulfilment_pending ${JSON.stringify(tally(answers))}; grant attempts ${attempts!.total} (max ${attempts!.max} for one fulfilment)`)
  t.comment(`recovery: ${expected.length - leftForSweeper} of ${expected.length} granted by the surviving workers within ${takenOverMs} ms of the last kill; ${leftForSweeper} left for the sweeper (${JSON.stringify(tally(stalledOut.map((r) => ({ statusCode: r as unknown as number }))))}); all granted ${recoveryMs} ms after the last kill`)
  t.comment(`lost: ${lost.length}, double-granted: ${doubled.length}, 5xx: ${fiveXX.length}`)
})

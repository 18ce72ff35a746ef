// Two worker processes (the built bin) run the outbox relay on one database: every inbox row is
// queued by exactly one of them, none is left, and a relay killed mid-run loses nothing.
import { createBullDispatcher } from '@fp-webhooks/queue'
import t, { type Test } from 'tap'
import { createIds, ordinaryEvent, ORDINARY_TYPES } from './helpers/payloads.js'
import { WORKER_BIN, spawnService, type Service } from './helpers/processes.js'
import { TEST_REDIS_URL, createEnv, inject, sleep, startApi, waitFor, type ChaosEnv, type Api } from './helpers/stack.js'

const N = Number(process.env.CHAOS_RELAY_DELIVERIES ?? 1500)

function spawnWorker (t: Parameters<typeof spawnService>[0], env: ChaosEnv): Service {
  return spawnService(t, WORKER_BIN, {
    DATABASE_URL: env.dbUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: env.prefix,
    LOG_LEVEL: 'debug',
    // The relays alone: no sweeper behind them.
    SWEEP_INTERVAL_MS: '0',
    LOCK_DURATION_MS: '1000',
    WORKER_CONCURRENCY: '8'
  })
}

/** `n` new ordinary deliveries, 50 at a time, each answered 200. */
async function deliver (t: Test, api: Api, nextId: () => number, n: number, ids: string[]) {
  const statuses: number[] = []
  for (let sent = 0; sent < n; sent += 50) {
    const wave = Array.from(
      { length: Math.min(50, n - sent) },
      (_, i) => ordinaryEvent(ORDINARY_TYPES[(sent + i) % ORDINARY_TYPES.length]!, nextId)
    )
    for (const body of wave) ids.push(String(body.event.id))
    statuses.push(...(await Promise.all(wave.map((b) => inject(api, b)))).map((a) => a.statusCode))
  }
  t.ok(statuses.every((s) => s === 200), `${n} deliveries answered 200`)
}

async function unfinished (env: ChaosEnv, ids: string[]) {
  const [r] = await env.sql`
    select (select count(*)::int from webhook_events where event_id = any(${ids})) as stored,
           (select count(*)::int from webhook_events where event_id = any(${ids}) and state <> 'processed') as unprocessed,
           (select count(*)::int from webhook_events where event_id = any(${ids}) and attempts <> 1) as "notOnce",
           (select count(*)::int from event_outbox) as outbox`
  return r!
}

const relayed = (w: Service) => w.lines.filter((l) => l.msg === 'outbox relay: queued').reduce((sum, l) => sum + Number(l.relayed), 0)

t.test(`two relays in two worker processes: ${N} deliveries, each queued by one of them, none lost`, async (t) => {
  const nextId = createIds(700_000_000)
  const env = await createEnv(t)
  const api = await startApi(t, env, { env: { FP_FULFILMENT_WAIT_MS: '0' } })
  const workers = [spawnWorker(t, env), spawnWorker(t, env)]
  await Promise.all(workers.map((w) => w.waitForLine((l) => l.msg === 'worker ready', 30_000, 'a worker to start')))

  const ids: string[] = []
  await deliver(t, api, nextId, N, ids)
  await waitFor(async () => {
    const r = await unfinished(env, ids)
    return r.unprocessed === 0 && r.outbox === 0
  }, 60_000, async () => `every delivery processed (${JSON.stringify(await unfinished(env, ids))})`)
  const r = await unfinished(env, ids)
  t.equal(r.stored, N, 'every delivery stored')
  t.equal(r.notOnce, 0, 'each processed once: one effective job per row')
  const shares = workers.map(relayed)
  t.equal(shares[0]! + shares[1]!, N, `each row claimed by exactly one relay (${shares.join(' + ')})`)
  const queue = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix: env.prefix })
  await queue.ready()
  const counts = await queue.queues.events.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed')
  await queue.close()
  t.match(counts, { completed: N, failed: 0, waiting: 0, active: 0, delayed: 0 }, 'one job per row in Redis')
  t.teardown(() => Promise.all(workers.map((w) => w.stop())))
})

t.test('a relay killed mid-run: the other one queues what it held, nothing is lost', async (t) => {
  const nextId = createIds(710_000_000)
  const env = await createEnv(t)
  const api = await startApi(t, env, { env: { FP_FULFILMENT_WAIT_MS: '0' } })
  const [doomed, survivor] = [spawnWorker(t, env), spawnWorker(t, env)]
  await Promise.all([doomed, survivor].map((w) => w.waitForLine((l) => l.msg === 'worker ready', 30_000, 'a worker to start')))

  const ids: string[] = []
  const sending = deliver(t, api, nextId, N, ids)
  // Once it has relayed something: it is in the middle of claiming, queueing and processing.
  await doomed.waitForLine((l) => l.msg === 'outbox relay: queued', 30_000, 'the doomed relay to queue rows')
  await sleep(20)
  doomed.child.kill('SIGKILL')
  await doomed.exited
  await sending
  await waitFor(async () => {
    const r = await unfinished(env, ids)
    return r.unprocessed === 0 && r.outbox === 0
  }, 90_000, async () => `every delivery processed after the kill (${JSON.stringify(await unfinished(env, ids))})`)
  const r = await unfinished(env, ids)
  t.equal(r.stored, N, 'every delivery stored')
  t.equal(r.notOnce, 0, 'each processed once')
  t.ok(relayed(survivor) > 0, `the survivor relayed ${relayed(survivor)} rows, the killed one ${relayed(doomed)} before it died`)
  t.teardown(() => survivor.stop())
})

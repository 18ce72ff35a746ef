import { JOB } from '@fp-webhooks/queue'
import { startRedisServer } from '@fp-webhooks/testing'
import { DEFAULT_STALE_AFTER_MS, DEFAULT_SWEEP_INTERVAL_MS } from '@fp-webhooks/worker'
import t from 'tap'
import { createIds, fulfilmentEvent, ordinaryEvent, ORDINARY_TYPES } from './helpers/payloads.js'
import { createEnv, inject, is2xx, startApi, startWorker, tally, waitFor } from './helpers/stack.js'

const DURING = 12

t.test('Redis killed and back empty: what was answered 2xx meanwhile is processed and granted, with no restart', async (t) => {
  const nextId = createIds(300_000_000)
  const redis = await startRedisServer(t)
  const env = await createEnv(t)
  const api = await startApi(t, env, { redisUrl: redis.url, env: { FP_FULFILMENT_WAIT_MS: '2000' } })
  // Short intervals so the test is quick. With the defaults a row stored just before Redis returns is
  // stale after 30 s and swept at most 30 s later: within 90 s, with room for the reconnect.
  t.ok(DEFAULT_SWEEP_INTERVAL_MS + DEFAULT_STALE_AFTER_MS <= 60_000, 'the default sweep meets 90 s')
  const worker = await startWorker(t, env, {
    redisUrl: redis.url,
    sweepIntervalMs: 250,
    staleAfterMs: 500,
    // Reconciliation configured: its Redis schedule must come back too.
    payouts: { listPending: async function * () {} },
    reconcileIntervalMs: 3_600_000
  })
  t.ok(await worker.queues.maintenance.getJobScheduler(JOB.reconcile), 'the reconcile schedule is set')

  // Healthy first: a grant and an event through Redis.
  const warm = fulfilmentEvent(nextId, { amount: 1 })
  t.equal((await inject(api, warm)).statusCode, 200, 'granted while Redis is up')

  // SIGKILL: no save, no shutdown. Deliveries are stored and answered anyway.
  await redis.kill()
  const bodies = Array.from({ length: DURING }, (_, i) => i % 3 === 0
    ? fulfilmentEvent(nextId, { unit: 'credits', amount: i + 1 })
    : ordinaryEvent(ORDINARY_TYPES[i % ORDINARY_TYPES.length]!, nextId))
  const answers = []
  for (const body of bodies) answers.push(await inject(api, body))
  t.ok(answers.every((a) => is2xx(a.statusCode)), `every delivery during the outage answered 2xx ${JSON.stringify(tally(answers))}`)
  const fulfilmentIds = bodies.filter((b) => b.event.type === 'fulfilment_pending').map((b) => b.data.id as number)
  const eventIds = bodies.map((b) => String(b.event.id))

  // Back on the same port with nothing in it: no jobs, no schedulers.
  await redis.start()
  const back = Date.now()
  const unfinished = async () => {
    const [r] = await env.sql`
      select (select count(*)::int from webhook_events where event_id = any(${eventIds}) and state <> 'processed') as events,
             (select count(*)::int from fulfilments where id = any(${fulfilmentIds}) and state <> 'granted') as fulfilments`
    return r!
  }
  await waitFor(async () => {
    const r = await unfinished()
    return r.events === 0 && r.fulfilments === 0
  }, 30_000, async () => `every delivery stored during the outage to be processed or granted (left: ${JSON.stringify(await unfinished())})`)
  t.pass(`all ${DURING} processed or granted ${Date.now() - back} ms after Redis came back, no worker restart`)

  const ledger = await env.sql`select fulfilment_id::bigint as id, count(*)::int as n from ledger_entries where fulfilment_id = any(${fulfilmentIds}) group by fulfilment_id`
  t.equal(ledger.length, fulfilmentIds.length, 'each fulfilment has its ledger row')
  t.ok(ledger.every((r) => r.n === 1), 'granted once each')
  t.ok(worker.workers.every((w) => w.isRunning()), 'the same worker did it')
  await waitFor(async () => Boolean(await worker.queues.maintenance.getJobScheduler(JOB.reconcile)), 10_000, 'the reconcile schedule to be set again')
  t.pass('the reconcile schedule was set again on the empty Redis')
})

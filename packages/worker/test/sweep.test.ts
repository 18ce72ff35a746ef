import t from 'tap'
import { createPostgresStore, getBalance } from '@fp-webhooks/db'
import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { fixture, fulfilment, ledgerCount, seedFulfilment, setup, sleep, startWorker, uniqueId, waitFor, waitForState } from './helper.js'

t.test('the sweeper enqueues work stored without a job, once', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx, { staleAfterMs: 0 })
  // Hold the grant and event workers so that the queue shows exactly what the sweeps enqueued.
  await Promise.all(worker.workers.slice(0, 2).map((w) => w.pause()))

  // Stored while Redis was away (the api answered anyway): rows, no jobs.
  const store = createPostgresStore(ctx.db)
  const inboxIds: number[] = []
  for (const type of ['lead_signup', 'lead_cancelled']) {
    const env = fixture(`${type}.json`)
    env.event.id = uniqueId()
    const { inboxId } = await store.record({ source: 'v1', eventId: String(env.event.id), eventType: type, eventCreatedAt: new Date(env.event.created_at), dedupeKey: null, payload: env })
    inboxIds.push(inboxId!)
  }
  const fulfilments = [
    await seedFulfilment(ctx.db, { unit: 'free_months', amount: 2 }),
    await seedFulfilment(ctx.db, { unit: 'points', amount: 40, custId: 'swept_user' })
  ]
  t.same(await worker.queues.grants.getJobCounts('wait'), { wait: 0 }, 'no grant job yet')
  await sleep(20) // "older than 0 ms" must be strictly in the past

  const first = await worker.sweep()
  t.same(first, { events: 2, fulfilments: 2, closes: 0 })
  const second = await worker.sweep()
  t.same(second, { events: 2, fulfilments: 2, closes: 0 }, 'still pending, so listed again…')
  t.same(await worker.queues.grants.getJobCounts('wait'), { wait: 2 }, '…but enqueued once: one grant job per fulfilment')
  t.same(await worker.queues.events.getJobCounts('wait'), { wait: 2 }, 'one event job per inbox row')

  for (const w of worker.workers) w.resume()
  for (const f of fulfilments) await waitForState(ctx.db, f.id, 'granted')
  await waitFor(async () => {
    const rows = await ctx.sql`select count(*)::int as n from webhook_events where state = 'processed'`
    return rows[0]?.n === 2
  }, 10_000, 'both inbox rows processed')

  const third = await worker.sweep()
  t.same(third, { events: 0, fulfilments: 0, closes: 0 }, 'nothing left to sweep')
  await sleep(200)
  for (const f of fulfilments) t.equal(await ledgerCount(ctx.db, f.id), 1, 'still one ledger row')
  t.equal(await getBalance(ctx.db, 'cust:swept_user', 'points'), 40)
  t.equal(await getBalance(ctx.db, fulfilments[0]!.beneficiary, 'free_months'), 2)
  const lead = await ctx.sql`select state from leads`
  t.same(lead.map((r) => r.state), ['cancelled'], 'the swept events were projected')
  t.same(await worker.queues.grants.getJobCounts('completed', 'failed'), { completed: 2, failed: 0 })
})

t.test('the sweeper leaves fresh rows to their own job (staleAfterMs)', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx, { staleAfterMs: 60_000 })
  await seedFulfilment(ctx.db, { amount: 1 })
  t.same(await worker.sweep(), { events: 0, fulfilments: 0, closes: 0 }, 'a row one moment old is not stale yet')
  t.same(await worker.queues.grants.getJobCounts('wait', 'active', 'completed'), { wait: 0, active: 0, completed: 0 })
})

t.test('a worker starting up sweeps whatever was stored while none ran', async (t) => {
  const ctx = await setup(t)
  const f = await seedFulfilment(ctx.db, { amount: 3 })
  await sleep(20)
  await startWorker(t, ctx)
  await waitForState(ctx.db, f.id, 'granted')
  t.equal(await ledgerCount(ctx.db, f.id), 1)
})

t.test('the sweeper sends an API close that is due and has no job (deferred, or lost with Redis), once', async (t) => {
  const ctx = await setup(t)
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const worker = await startWorker(t, ctx, {
    api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } },
    staleAfterMs: 1000
  })
  const f = await seedFulfilment(ctx.db, { amount: 2 })
  fake.addPayout({ id: f.id, amount: f.amount, unit: f.unit, promoter: { id: f.promoterId!, cust_id: '', email: null } })
  // Granted, close due, and no job for it.
  await ctx.sql`update fulfilments set state = 'granted', granted_at = now(), api_close = 'pending', updated_at = now() where id = ${f.id}`
  t.same(await worker.sweep(), { events: 0, fulfilments: 0, closes: 0 }, 'not before the grace period: the 200 may still be noted')
  await ctx.sql`update fulfilments set updated_at = now() - interval '5 seconds' where id = ${f.id}`
  t.same(await worker.sweep(), { events: 0, fulfilments: 0, closes: 1 })
  await waitFor(async () => (await fulfilment(ctx.db, f.id)).apiClose === 'done', 10_000, 'the close')
  t.same(await worker.sweep(), { events: 0, fulfilments: 0, closes: 0 }, 'done: nothing more to send')
  await sleep(200)
  t.equal(fake.closeCalls(f.id).length, 1, 'one close call')
})

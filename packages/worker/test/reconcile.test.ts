import t from 'tap'
import { getBalance } from '@fp-webhooks/db'
import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { JOB } from '@fp-webhooks/queue'
import { captureLogs } from '@fp-webhooks/testing'
import { pino } from 'pino'
import { fulfilmentData, fulfilment, seedFulfilment, setup, sleep, startWorker, uniqueId, waitFor } from './helper.js'

t.test('reconcile grants and closes the pending fulfilments we never received, once', async (t) => {
  const ctx = await setup(t)
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())

  // Three payouts FirstPromoter still lists as pending: their deliveries never reached us.
  const lost = [
    fulfilmentData({ amount: 1, custId: '' }),
    fulfilmentData({ amount: 2, custId: 'user_rec_2' }),
    fulfilmentData({ amount: 3, custId: '' })
  ]
  for (const d of lost) {
    fake.addPayout({ id: d.id, status: 'pending', amount: d.amount, unit: 'free_months', promoter: { id: d.promoter.id, cust_id: d.promoter.cust_id, email: d.promoter.email } })
  }
  // And one already closed on FirstPromoter's side: not listed, never touched.
  const done = fake.addPayout({ id: uniqueId(), status: 'completed', amount: 9, unit: 'free_months' })

  const worker = await startWorker(t, ctx, { api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } } })
  const first = await worker.reconcile()
  t.same(first, { listed: 3, recovered: 3, requeued: 0, reclosed: 0, invalid: 0 })

  await waitFor(async () => {
    const rows = await Promise.all(lost.map((d) => fulfilment(ctx.db, d.id)))
    return rows.every((r) => r.state === 'granted' && r.apiClose === 'done')
  }, 10_000, 'the three fulfilments to be granted and closed')

  for (const d of lost) {
    const row = await fulfilment(ctx.db, d.id)
    t.equal(row.source, 'reconcile')
    t.equal(row.answeredPending, true, 'FirstPromoter still thought it pending')
    t.ok(row.apiClosedAt, 'closed at')
    const calls = fake.closeCalls(d.id)
    t.equal(calls.length, 1, `one close call for ${d.id}`)
    t.equal(calls[0]?.status, 200)
    t.match(calls[0]?.body, { id: String(d.id), status: 'completed' })
    t.equal(fake.getPayout(d.id)?.status, 'completed', 'the fake payout is now completed')
    const beneficiary = d.promoter.cust_id ? `cust:${d.promoter.cust_id}` : `promoter:${d.promoter.id}`
    t.equal(await getBalance(ctx.db, beneficiary, 'free_months'), d.amount, `${beneficiary} got ${d.amount}`)
  }
  t.equal(await fulfilment(ctx.db, done.id).catch(() => null), null, 'a completed payout is not recorded')
  const ledger = await ctx.sql`select count(*)::int as n from ledger_entries`
  t.equal(ledger[0]?.n, 3)

  // Nothing is pending on FirstPromoter any more: a second pass does nothing.
  const requestsBefore = fake.requests.length
  const second = await worker.reconcile()
  t.same(second, { listed: 0, recovered: 0, requeued: 0, reclosed: 0, invalid: 0 })
  await sleep(300)
  t.equal((await ctx.sql`select count(*)::int as n from ledger_entries`)[0]?.n, 3, 'no new ledger rows')
  for (const d of lost) t.equal(fake.closeCalls(d.id).length, 1, 'no new close call')
  t.same(fake.requests.slice(requestsBefore).map((r) => `${r.method} ${r.path}`), ['GET /api/v1/payouts/list'], 'only the list was asked for')
})

t.test('reconcile requeues a known but ungranted fulfilment and re-closes a granted one', async (t) => {
  const ctx = await setup(t)
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const worker = await startWorker(t, ctx, { api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } } })

  // Known to us and granted, but the close never happened (we answered 200 to a delivery
  // FirstPromoter then lost track of, or the close failed): FirstPromoter still lists it.
  const granted = await seedFulfilment(ctx.db, { amount: 2 })
  await worker.deps.enqueueGrant(granted.id)
  await waitFor(async () => (await fulfilment(ctx.db, granted.id)).state === 'granted', 5000, 'the first grant')
  // Known, never granted (its job was lost): still pending on both sides.
  const stuck = await seedFulfilment(ctx.db, { amount: 5 })
  // A payout without a promoter cannot be granted: counted as invalid, skipped.
  const invalidId = uniqueId()
  for (const f of [granted, stuck]) fake.addPayout({ id: f.id, amount: f.amount, unit: f.unit, promoter: { id: f.promoterId!, cust_id: '', email: null } })
  fake.addPayout({ id: invalidId, promoter: null })

  const report = await worker.reconcile()
  t.same(report, { listed: 3, recovered: 0, requeued: 1, reclosed: 1, invalid: 1 })
  await waitFor(async () => {
    const [a, b] = await Promise.all([fulfilment(ctx.db, granted.id), fulfilment(ctx.db, stuck.id)])
    return a.apiClose === 'done' && b.state === 'granted' && b.apiClose === 'done'
  }, 10_000, 'the requeued grant and both closes')
  t.equal(fake.closeCalls(granted.id).length, 1)
  t.equal(fake.closeCalls(stuck.id).length, 1)
  t.equal(fake.closeCalls(invalidId).length, 0)
  t.equal((await ctx.sql`select count(*)::int as n from ledger_entries`)[0]?.n, 2, 'still one ledger row each')
})

t.test('reconcile without API credentials is refused', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  t.throws(() => worker.reconcile(), /FP_API_KEY/)
})

t.test('a reconcile job reaching a worker without API credentials fails with the reason, logged at warn', async (t) => {
  const ctx = await setup(t)
  const logs = captureLogs()
  const worker = await startWorker(t, ctx, { logger: pino({ level: 'info' }, logs.stream) })
  await worker.queues.maintenance.add(JOB.reconcile, {}, { jobId: 'reconcile-by-hand' })
  await waitFor(async () => (await worker.queues.maintenance.getJobState('reconcile-by-hand')) === 'failed', 5000, () => `the job to fail rather than complete doing nothing (${logs.text().slice(-300)})`)
  const job = await worker.queues.maintenance.getJob('reconcile-by-hand')
  t.match(job?.failedReason, /FP_API_KEY/, 'the job says why')
  t.equal(job?.attemptsMade, 1, 'not retried')
  const line = logs.lines.map((l) => JSON.parse(l)).find((l) => /reconcil/.test(l.msg) && l.level === 40)
  t.match(line, { level: 40, reason: /FP_API_KEY/ }, 'and a warn line says it too')
})

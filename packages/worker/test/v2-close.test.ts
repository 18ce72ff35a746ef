import t from 'tap'
import { recordV2Fulfilment, v2FulfilmentId } from '@fp-webhooks/db'
import { createV2Client } from '@fp-webhooks/firstpromoter-api'
import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { closeV2Commissions } from '../src/index.js'
import { setup, startWorker, uniqueId, type TestContext } from './helper.js'

async function granted (ctx: TestContext, commissionId: number) {
  await recordV2Fulfilment(ctx.db, { commissionId, unit: 'points', amount: 1, promoterId: 1, promoterEmail: null, referral: null, party: 'promoter' }, { source: 'webhook' })
  await ctx.sql`update fulfilments set state = 'granted', api_close = 'pending' where id = ${v2FulfilmentId(commissionId)}`
}

async function closes (ctx: TestContext, ids: number[]) {
  const rows = await ctx.sql<Array<{ fp_id: string, api_close: string }>>`select fp_id::text, api_close from fulfilments where id = any(${ids.map(v2FulfilmentId)}) order by fp_id`
  return Object.fromEntries(rows.map((r) => [Number(r.fp_id), r.api_close]))
}

/** The fake API, the test's database and a worker whose v2 client does not retry by itself. */
async function world (t: { teardown: (fn: () => unknown) => void }) {
  const fake = await startFakeFirstPromoter({ batchDelayMs: 10 })
  t.teardown(() => fake.close())
  const ctx = await setup(t)
  const v2 = createV2Client({ apiKey: fake.apiKey, accountId: fake.accountId, baseUrl: fake.v2Url, maxRetries: 0 })
  const worker = await startWorker(t, ctx, { v2, v2Close: { pollIntervalMs: 10 } })
  const calls = () => fake.requests.filter((r) => r.path.endsWith('/commissions/mark_fulfilled'))
  return { fake, ctx, worker, calls }
}

t.test('a refused id among up to 5 does not hold the others: they are retried one by one', async (t) => {
  const { fake, ctx, worker, calls } = await world(t)
  const ids = [uniqueId(), uniqueId(), uniqueId()]
  fake.addCommission({ id: ids[0], unit: 'points' })
  fake.addCommission({ id: ids[1], unit: 'points', status: 'pending' }) // FirstPromoter answers 422
  fake.addCommission({ id: ids[2], unit: 'points' })
  for (const id of ids) await granted(ctx, id)
  const report = await closeV2Commissions(worker.deps)
  t.same(report, { calls: 4, closed: 2, failed: 1 })
  t.same(calls().map((c) => c.status), [422, 200, 422, 200])
  t.same(await closes(ctx, ids), { [ids[0]!]: 'done', [ids[1]!]: 'failed', [ids[2]!]: 'done' })
})

t.test('a 202 batch with a failed item: the batch is followed, the open id read back and left failed', async (t) => {
  const { fake, ctx, worker, calls } = await world(t)
  const ids = Array.from({ length: 7 }, () => uniqueId())
  for (const id of ids.slice(1)) fake.addCommission({ id, unit: 'credits' })
  // ids[0] is unknown to FirstPromoter.
  for (const id of ids) await granted(ctx, id)
  const report = await closeV2Commissions(worker.deps)
  t.same(report, { calls: 2, closed: 6, failed: 1 }, 'the mark call and the read-back')
  t.equal(calls()[0]?.status, 202)
  const state = await closes(ctx, ids)
  t.equal(state[ids[0]!], 'failed')
  t.ok(ids.slice(1).every((id) => state[id] === 'done'))
  const [row] = await ctx.sql`select api_close_error from fulfilments where id = ${v2FulfilmentId(ids[0]!)}`
  t.match(row?.api_close_error, /mark_fulfilled batch [0-9]+ completed/)
})

t.test('a transient error keeps the closes due and fails the job; the batch size is honoured', async (t) => {
  const { fake, ctx, worker, calls } = await world(t)
  const ids = [uniqueId(), uniqueId(), uniqueId()]
  for (const id of ids) { fake.addCommission({ id, unit: 'points' }); await granted(ctx, id) }
  fake.failNext(1, { status: 503 })
  await t.rejects(closeV2Commissions(worker.deps))
  t.same(Object.values(await closes(ctx, ids)), ['pending', 'pending', 'pending'])
  worker.deps.v2Close = { batchSize: 2, pollIntervalMs: 10 }
  t.same(await closeV2Commissions(worker.deps), { calls: 2, closed: 3, failed: 0 })
  t.same(calls().slice(1).map((c) => (c.body as { ids: number[] }).ids.length), [2, 1], 'two ids, then one')
})

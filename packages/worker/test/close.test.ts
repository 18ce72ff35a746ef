import t from 'tap'
import { settleAnswer } from '@fp-webhooks/db'
import { startFakeFirstPromoter, type FakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { closeJobId, grantJobId } from '@fp-webhooks/queue'
import type { FulfilmentFacts } from 'fastify-firstpromoter'
import { fulfilment, seedFulfilment, setup, sleep, startWorker, waitFor, waitForState, type TestContext } from './helper.js'

const UPDATE = '/api/v1/payouts/update'

async function withFake (t: { teardown: (fn: () => unknown) => void }) {
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  return fake
}

/** A fulfilment FirstPromoter also knows as a pending payout. */
async function pendingPayout (
  ctx: TestContext,
  fake: FakeFirstPromoter,
  answeredPending: boolean
): Promise<FulfilmentFacts> {
  const f = await seedFulfilment(ctx.db, { unit: 'free_months', amount: 2 })
  fake.addPayout({ id: f.id, amount: f.amount, unit: f.unit, promoter: { id: f.promoterId!, cust_id: '', email: null } })
  if (answeredPending) {
    // What the api does when it answers 202: the fulfilment is not granted yet.
    const status = await settleAnswer(ctx.db, f.id)
    if (status?.state !== 'pending') throw new Error('expected a pending fulfilment')
  }
  return f
}

t.test('answered "pending": closed through the v1 API exactly once after the grant', async (t) => {
  const ctx = await setup(t)
  const fake = await withFake(t)
  const worker = await startWorker(t, ctx, { api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } } })
  const f = await pendingPayout(ctx, fake, true)
  t.equal((await fulfilment(ctx.db, f.id)).answeredPending, true)

  await worker.deps.enqueueGrant(f.id)
  await waitFor(async () => (await fulfilment(ctx.db, f.id)).apiClose === 'done', 10_000, 'the close')
  const row = await fulfilment(ctx.db, f.id)
  t.equal(row.state, 'granted')
  t.ok(row.apiClosedAt)
  t.equal(row.apiCloseError, null)
  const calls = fake.closeCalls(f.id)
  t.equal(calls.length, 1, 'one close call')
  t.equal(calls[0]?.method, 'PUT')
  t.equal(calls[0]?.headers['x-api-key'], fake.apiKey)
  t.match(calls[0]?.headers['content-type'], /^application\/x-www-form-urlencoded/, 'v1 takes form fields')
  t.same(calls[0]?.body, { id: String(f.id), status: 'completed' })
  t.equal(fake.getPayout(f.id)?.status, 'completed')

  // The grant job again (a re-fire, a sweep): no second close.
  await worker.queues.grants.add('grant', { fulfilmentId: f.id }, { jobId: `again-${f.id}` })
  await waitFor(async () => (await worker.queues.grants.getJobState(`again-${f.id}`)) === 'completed', 5000, 'the repeat grant job')
  await sleep(200)
  t.equal(fake.closeCalls(f.id).length, 1, 'still one close call')
})

t.test('answered 200 (not pending): no close call', async (t) => {
  const ctx = await setup(t)
  const fake = await withFake(t)
  const worker = await startWorker(t, ctx, { api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } } })
  const f = await pendingPayout(ctx, fake, false)

  await worker.deps.enqueueGrant(f.id)
  await waitFor(async () => (await worker.queues.grants.getJobState(grantJobId(f.id))) === 'completed', 5000, 'the grant job')
  await sleep(200)
  const row = await fulfilment(ctx.db, f.id)
  t.equal(row.state, 'granted')
  t.equal(row.apiClose, 'not_needed')
  t.equal(await worker.queues.maintenance.getJob(closeJobId(f.id)), undefined, 'no close job')
  t.equal(fake.requests.length, 0, 'the API was not called')
  t.equal(fake.getPayout(f.id)?.status, 'pending')
})

t.test('a 429 with Retry-After is waited out: the close still succeeds', async (t) => {
  const ctx = await setup(t)
  const fake = await withFake(t)
  const worker = await startWorker(t, ctx, { api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } } })
  const f = await pendingPayout(ctx, fake, true)
  fake.failNext(1, { status: 429, retryAfter: 1, path: UPDATE })

  const started = Date.now()
  await worker.deps.enqueueGrant(f.id)
  await waitFor(async () => (await fulfilment(ctx.db, f.id)).apiClose === 'done', 10_000, 'the close')
  const calls = fake.closeCalls(f.id)
  t.same(calls.map((c) => c.status), [429, 200], 'rate-limited once, then one successful call')
  t.ok(Date.now() - started >= 900, 'the Retry-After second was honoured')
  const row = await fulfilment(ctx.db, f.id)
  t.equal(row.apiClose, 'done')
  t.equal(row.apiCloseError, null)
  t.equal(fake.getPayout(f.id)?.status, 'completed')
})

t.test('a rejected API key: api_close failed, a clear error without the key, no retry storm', async (t) => {
  const ctx = await setup(t)
  const fake = await withFake(t)
  const wrongKey = 'sk_wrong_0123456789abcdef'
  const worker = await startWorker(t, ctx, { api: { v1: { apiKey: wrongKey, baseUrl: fake.url } } })
  const f = await pendingPayout(ctx, fake, true)

  await worker.deps.enqueueGrant(f.id)
  const row = await waitFor(async () => (await fulfilment(ctx.db, f.id)).apiClose === 'failed', 10_000, 'the close to fail')
    .then(() => fulfilment(ctx.db, f.id))
  t.equal(row.state, 'granted', 'the grant itself stands')
  t.match(row.apiCloseError, /401/, 'the error names the status')
  t.match(row.apiCloseError, /rejected the API key/, 'and says the key was rejected')
  t.notMatch(row.apiCloseError, wrongKey, 'and does not contain the key')
  await waitFor(async () => (await worker.queues.maintenance.getJobState(closeJobId(f.id))) === 'failed', 5000, 'the close job to fail')
  const job = await worker.queues.maintenance.getJob(closeJobId(f.id))
  t.equal(job?.attemptsMade, 1, 'not retried by BullMQ')
  t.notMatch(job?.failedReason ?? '', wrongKey)
  await sleep(500)
  t.equal(fake.closeCalls(f.id).length, 1, 'the fake saw exactly one request for it')
  t.equal(fake.requests.length, 1)
  t.equal(fake.requests[0]?.status, 401)
  t.equal(fake.getPayout(f.id)?.status, 'pending', 'still pending on FirstPromoter: the next re-fire gets 200')
  t.equal((await waitForState(ctx.db, f.id, 'granted')).apiClose, 'failed')
})

t.test('a close that failed (401) is sent again once the key is fixed: reconcile re-closes it for real', async (t) => {
  const ctx = await setup(t)
  const fake = await withFake(t)
  const api = { v1: { apiKey: fake.apiKey, baseUrl: fake.url } }
  const worker = await startWorker(t, ctx, { api })
  const f = await pendingPayout(ctx, fake, true)
  // The key was wrong: FirstPromoter refuses the first close.
  fake.failNext(1, { status: 401, path: UPDATE })

  await worker.deps.enqueueGrant(f.id)
  await waitFor(async () => (await fulfilment(ctx.db, f.id)).apiClose === 'failed', 10_000, 'the close to fail')
  await waitFor(async () => (await worker.queues.maintenance.getJobState(closeJobId(f.id))) === 'failed', 5000, 'the close job to fail')
  t.same(fake.closeCalls(f.id).map((c) => c.status), [401])

  // The key is fixed; the next reconciliation sees the payout still pending and closes it again.
  const report = await worker.reconcile()
  t.match(report, { listed: 1, reclosed: 1 })
  await waitFor(async () => (await fulfilment(ctx.db, f.id)).apiClose === 'done', 10_000, () => `the second close (calls: ${JSON.stringify(fake.closeCalls(f.id).map((c) => c.status))})`)
  t.same(fake.closeCalls(f.id).map((c) => c.status), [401, 200], 'a second PUT /payouts/update was really sent')
  t.equal(fake.getPayout(f.id)?.status, 'completed')
  const row = await fulfilment(ctx.db, f.id)
  t.equal(row.apiCloseError, null)
  t.ok(row.apiClosedAt)
})

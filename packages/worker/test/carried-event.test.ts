import t from 'tap'
import { sql } from 'drizzle-orm'
import { createPostgresStore, getEvent, pauseGrants } from '@fp-webhooks/db'
import { eventJobId, grantJobId } from '@fp-webhooks/queue'
import { fulfilmentFacts, v1Delivery, type FulfilmentPendingData } from 'fastify-firstpromoter'
import { createHandlers } from '../src/index.js'
import { fixture, fulfilmentData, ledgerCount, setup, startWorker, uniqueId, waitFor, waitForState, type TestContext } from './helper.js'

// The delivery that records a fulfilment is processed by its grant job (the store queues no event
// job for it, `processedWithGrant`): one job per new fulfilment instead of two.

/** Records a `fulfilment_pending` delivery through the Postgres store, as the api does. */
async function recordFulfilment (ctx: TestContext, overrides: { unit?: string } = {}) {
  const data = fulfilmentData(overrides)
  const envelope = { ...fixture<{ event: { id: string } }>('fulfilment_pending.json'), data }
  envelope.event.id = String(uniqueId())
  const delivery = v1Delivery(envelope as never, fulfilmentFacts(data as unknown as FulfilmentPendingData, true))
  const recorded = await createPostgresStore(ctx.db).record(delivery)
  t.equal(recorded.processedWithGrant, true, 'the store leaves the row to the grant job')
  return { id: data.id, promoterId: data.promoter.id, inboxId: recorded.inboxId! }
}

const promoterRows = async (ctx: TestContext, id: number) =>
  (await ctx.db.execute<{ n: number }>(sql`select count(*)::int as n from promoters where id = ${id}`))[0]!.n

t.test('the grant job grants, then processes the row it carries; no event job is queued', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  const f = await recordFulfilment(ctx)
  await worker.jobs.newGrants([{ fulfilmentId: f.id, unit: 'free_months', amount: 3, inboxId: f.inboxId }])
  await waitForState(ctx.db, f.id, 'granted')
  t.equal(await ledgerCount(ctx.db, f.id), 1)
  await waitFor(async () => (await getEvent(ctx.db, f.inboxId))?.state === 'processed', 5000, 'the carried row processed')
  t.match(await getEvent(ctx.db, f.inboxId), { state: 'processed', attempts: 1, lastError: null })
  t.equal(await promoterRows(ctx, f.promoterId), 1, 'its projection ran (the promoter)')
  t.equal(await worker.queues.events.getJob(eventJobId(f.inboxId)), undefined, 'no event job for it')
  t.equal(await worker.queues.events.count(), 0)
})

t.test('a handler failing on the carried row hands it to an event job, which retries it; the grant stands', async (t) => {
  const ctx = await setup(t)
  let runs = 0
  const handlers = createHandlers().on('fulfilment_pending', () => {
    if (++runs === 1) throw new Error('the CRM is down')
  })
  const worker = await startWorker(t, ctx, { handlers })
  const f = await recordFulfilment(ctx)
  await worker.jobs.newGrants([{ fulfilmentId: f.id, inboxId: f.inboxId }])
  await waitForState(ctx.db, f.id, 'granted')
  await waitFor(async () => (await getEvent(ctx.db, f.inboxId))?.state === 'processed', 15_000, 'processed by the event job')
  t.equal(runs, 2, 'the handler ran again, once')
  t.equal(await worker.queues.events.getJobState(eventJobId(f.inboxId)), 'completed', 'through its own event job')
  t.equal(await ledgerCount(ctx.db, f.id), 1, 'granted once')
})

t.test('a paused grant still processes the row it carries, at its first run only', async (t) => {
  const ctx = await setup(t)
  let runs = 0
  const handlers = createHandlers().on('fulfilment_pending', () => { runs++ })
  const worker = await startWorker(t, ctx, { handlers, pauseRecheckMs: 600_000 })
  await pauseGrants(ctx.db, { by: 'test' })
  const f = await recordFulfilment(ctx)
  await worker.jobs.newGrants([{ fulfilmentId: f.id, unit: 'free_months', amount: 3, inboxId: f.inboxId }])
  await waitFor(async () => (await worker.queues.grants.getJobState(grantJobId(f.id))) === 'delayed', 5000, 'the grant deferred')
  await waitFor(async () => (await getEvent(ctx.db, f.inboxId))?.state === 'processed', 5000, 'the row processed anyway')
  t.equal(await ledgerCount(ctx.db, f.id), 0, 'nothing granted while paused')
  // The deferred job runs again (a recheck): the row is not processed a second time.
  await (await worker.queues.grants.getJob(grantJobId(f.id)))?.promote()
  await waitFor(async () => (await worker.queues.grants.getJobState(grantJobId(f.id))) === 'delayed', 5000, 'deferred again')
  t.equal(runs, 1, 'the handler ran once')
})

t.test('the rows of many grant jobs finishing together are processed together, each once', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx, { concurrency: { grants: 8 } })
  const recorded = []
  for (let i = 0; i < 40; i++) recorded.push(await recordFulfilment(ctx))
  await worker.jobs.newGrants(recorded.map((f) => ({ fulfilmentId: f.id, unit: 'free_months', amount: 3, inboxId: f.inboxId })))
  const ids = recorded.map((f) => f.inboxId)
  await waitFor(async () => (await ctx.sql`select count(*)::int as n from webhook_events where id = any(${ids}) and state = 'processed'`)[0]!.n === 40, 15_000, 'all 40 rows processed')
  const rows = await ctx.sql`select attempts, last_error from webhook_events where id = any(${ids})`
  t.same(new Set(rows.map((r) => `${r.attempts}/${r.last_error}`)), new Set(['1/null']), 'each processed once, without error')
  const promoters = await ctx.sql`select count(*)::int as n from promoters where id = any(${recorded.map((f) => f.promoterId)})`
  t.equal(promoters[0]!.n, 40, 'every projection ran')
  for (const f of recorded) t.equal(await ledgerCount(ctx.db, f.id), 1)
  t.equal(await worker.queues.events.count(), 0, 'no event job for any of them')
})

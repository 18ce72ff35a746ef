import type { ChildProcess } from 'node:child_process'
import t from 'tap'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { sql } from 'drizzle-orm'
import { createPostgresStore, getEvent, pauseGrants } from '@fp-webhooks/db'
import { GRANTS_QUEUE, GRANT_JOB_OPTIONS, JOB, eventJobId, grantJobId } from '@fp-webhooks/queue'
import { fulfilmentFacts, v1Delivery, type FulfilmentPendingData } from 'fastify-firstpromoter'
import { createHandlers } from '../src/index.js'
import { TEST_REDIS_URL, fixture, fulfilmentData, ledgerCount, setup, sleep, startWorker, uniqueId, waitFor, waitForState, type TestContext } from './helper.js'
import { createCarriedEvents } from '../src/processors/event.js'
import { spawnWorker } from './worker-process.js'

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

/** How many statements marked these rows processed: one statement, one `now()`. */
const markingStatements = async (ctx: TestContext, ids: number[]) =>
  (await ctx.sql`select count(distinct processed_at)::int as n from webhook_events where id = any(${ids}) and state = 'processed'`)[0]!.n

t.test('the rows of a window go in one statement; a full batch goes at once', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx, { concurrency: { grants: 8 }, carried: { maxBatch: 10, maxWaitMs: 60_000 } })
  const recorded = []
  for (let i = 0; i < 25; i++) recorded.push(await recordFulfilment(ctx))
  const ids = recorded.map((f) => f.inboxId)
  await worker.jobs.newGrants(recorded.map((f) => ({ fulfilmentId: f.id, unit: 'free_months', amount: 3, inboxId: f.inboxId })))
  await waitFor(async () => (await worker.queues.grants.getJobCounts('completed')).completed === 25, 15_000, 'every grant job completed')
  await waitFor(async () => (await ctx.sql`select count(*)::int as n from webhook_events where id = any(${ids}) and state = 'processed'`)[0]!.n === 20, 5000, 'two full batches processed without waiting out the window')
  t.equal(await markingStatements(ctx, ids), 2, 'in two statements')
  t.equal((await ctx.sql`select count(*)::int as n from webhook_events where id = any(${ids}) and state = 'pending' and attempts = 0`)[0]!.n, 5, 'the other 5 wait for their window, untouched')
  t.equal(await worker.queues.events.count(), 0, 'no event job for any of them')
  await worker.close()
  t.equal((await ctx.sql`select count(*)::int as n from webhook_events where id = any(${ids}) and state = 'processed' and attempts = 1`)[0]!.n, 25, 'close() processed them, each once')
  t.equal(await markingStatements(ctx, ids), 3, 'the 5 in one more statement')
})

t.test('a grant job waits for its row only when maxWaiting rows already wait', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  const recorded: Awaited<ReturnType<typeof recordFulfilment>>[] = []
  for (let i = 0; i < 6; i++) recorded.push(await recordFulfilment(ctx))
  // The rows locked by another transaction: the batch statement waits for it.
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let locked!: () => void
  const isLocked = new Promise<void>((resolve) => { locked = resolve })
  const holder = ctx.sql.begin(async (tx) => {
    await tx`select id from webhook_events where id = any(${recorded.map((f) => f.inboxId)}) for update`
    locked()
    await released
  })
  await isLocked
  const carried = createCarriedEvents(worker.deps, { maxBatch: 2, maxWaiting: 2, maxWaitMs: 10 })
  const taken: boolean[] = recorded.map(() => false)
  recorded.forEach((f, i) => { carried.process(f.inboxId).then(() => { taken[i] = true }, () => {}) })
  await sleep(300)
  // 1 and 2 are sent (a full batch) and stuck on the lock; 3 and 4 wait for the next batch; beyond
  // two waiting, 5 and 6 are not taken until their rows are processed.
  t.same(taken, [true, true, true, true, false, false], 'beyond two rows waiting, a job waits for its own row')
  release()
  await holder
  await carried.flush()
  t.same(taken, [true, true, true, true, true, true])
  t.equal((await ctx.sql`select count(*)::int as n from webhook_events where id = any(${recorded.map((f) => f.inboxId)}) and state = 'processed' and attempts = 1`)[0]!.n, 6, 'all processed once')
})

t.test('a worker killed inside the window: its rows stay pending and the next worker\'s sweep processes them', async (t) => {
  const ctx = await setup(t)
  const live = new Set<ChildProcess>()
  t.teardown(() => { for (const child of live) child.kill('SIGKILL') })
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
  const grants = new Queue(GRANTS_QUEUE, { connection: redis, prefix: ctx.prefix })
  t.teardown(async () => { await grants.close(); await redis.quit() })

  const dying = spawnWorker(ctx, false, live, { CARRIED_WAIT_MS: '600000' })
  await dying.waitForLine('ready')
  const f = await recordFulfilment(ctx, { unit: 'free_months' })
  await grants.add(JOB.grant, { fulfilmentId: f.id, unit: 'free_months', amount: 3, inboxId: f.inboxId }, { ...GRANT_JOB_OPTIONS, jobId: grantJobId(f.id) })
  await waitFor(async () => (await grants.getJobState(grantJobId(f.id))) === 'completed', 10_000, 'the grant job to complete')
  t.match(await getEvent(ctx.db, f.inboxId), { state: 'pending', attempts: 0 }, 'its row waits in the window')
  dying.child.kill('SIGKILL')
  await dying.exited
  t.match(await getEvent(ctx.db, f.inboxId), { state: 'pending', attempts: 0 }, 'still pending after the kill')

  const worker = await startWorker(t, ctx) // its start-up sweep takes pending rows of any age
  await waitFor(async () => (await getEvent(ctx.db, f.inboxId))?.state === 'processed', 10_000, 'processed by the next worker')
  t.match(await getEvent(ctx.db, f.inboxId), { state: 'processed', attempts: 1, lastError: null })
  t.equal(await worker.queues.events.getJobState(eventJobId(f.inboxId)), 'completed', 'through an event job the sweep queued')
  t.equal(await promoterRows(ctx, f.promoterId), 1, 'its projection ran')
  t.equal(await ledgerCount(ctx.db, f.id), 1, 'granted once')
})

import { createServer } from 'node:net'
import { Worker } from 'bullmq'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { GRANTS_QUEUE, EVENTS_QUEUE, GRANT_BACKOFF, announceGrantSettled, createBullDispatcher, requeue, grantJobId, JOB, type GrantJobData } from '../src/index.js'
import { createRedisPrefix, TEST_REDIS_URL } from '@fp-webhooks/testing'

async function dispatcherFor (t: Test, redisUrl = TEST_REDIS_URL, readyWithinMs = 2000) {
  const prefix = createRedisPrefix(t)
  const d = createBullDispatcher({ redisUrl, prefix })
  t.teardown(() => d.close())
  // As the api does at start: enqueues fail fast until Redis is connected.
  const ready = await d.ready(readyWithinMs)
  return { d, prefix, ready }
}

t.test('enqueuing the same grant or event twice makes one job, under a deterministic id', async (t) => {
  const { d, ready } = await dispatcherFor(t)
  t.equal(ready, true)
  await d.dispatcher.enqueueGrant({ fulfilmentId: 42 })
  await d.dispatcher.enqueueGrant({ fulfilmentId: 42 })
  await d.dispatcher.enqueueEvent({ inboxId: 7, eventType: 'lead_signup' })
  await d.dispatcher.enqueueEvent({ inboxId: 7, eventType: 'lead_signup' })
  t.equal(await d.queues.grants.count(), 1)
  t.equal(await d.queues.events.count(), 1)
  const job = await d.queues.grants.getJob('grant-42')
  t.same(job?.data, { fulfilmentId: 42 })
  t.equal(job?.opts.attempts, 2 ** 31 - 1, 'grants retry until they succeed…')
  t.same(job?.opts.backoff, { type: GRANT_BACKOFF }, '…with the capped backoff the worker computes')
  t.ok(await d.queues.events.getJob('event-7'))
})

t.test('waitForGrant returns when the job completes (as the worker announces it), or at the timeout', async (t) => {
  const { d, prefix } = await dispatcherFor(t)
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null })
  const publisher = new Redis(TEST_REDIS_URL)
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const worker = new Worker<GrantJobData>(GRANTS_QUEUE, async () => { await gate; return 'done' }, { connection, prefix })
  // As the product's worker does once a grant job has completed.
  worker.on('completed', (job) => { announceGrantSettled(publisher, prefix, job.data.fulfilmentId, 'granted').catch(() => {}) })
  t.teardown(async () => { await worker.close(); await connection.quit(); await publisher.quit() })

  await d.dispatcher.enqueueGrant({ fulfilmentId: 1 })
  const started = Date.now()
  await d.dispatcher.waitForGrant(1, 300)
  const waited = Date.now() - started
  t.ok(waited >= 280 && waited < 2000, `timed out after ~300 ms (${waited} ms)`)

  release()
  const again = Date.now()
  await d.dispatcher.waitForGrant(1, 5000)
  t.ok(Date.now() - again < 3000, 'returned on completion, well before the timeout')
  t.equal(await d.queues.grants.getJobState(grantJobId(1)), 'completed')
  const third = Date.now()
  await d.dispatcher.waitForGrant(1, 5000)
  t.ok(Date.now() - third < 1000, 'an already-finished job returns at once')
})

t.test('requeue replaces a finished job but leaves a waiting one', async (t) => {
  const { d, prefix } = await dispatcherFor(t)
  await d.dispatcher.enqueueEvent({ inboxId: 9, eventType: 'x' })
  t.equal(await requeue(d.queues.events, JOB.event, { inboxId: 9, eventType: 'x' }, { jobId: 'event-9' }), 'already-queued', 'a waiting job is left alone')
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null })
  const seen = { runs: 0 }
  const worker = new Worker(EVENTS_QUEUE, async () => { seen.runs++ }, { connection, prefix })
  t.teardown(async () => { await worker.close(); await connection.quit() })
  const waitState = async (state: string) => {
    for (let i = 0; i < 100 && await d.queues.events.getJobState('event-9') !== state; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await waitState('completed')
  t.equal(seen.runs, 1)
  await d.dispatcher.enqueueEvent({ inboxId: 9, eventType: 'x' })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(seen.runs, 1, 'a plain enqueue of a completed id does nothing')
  t.equal(await requeue(d.queues.events, JOB.event, { inboxId: 9, eventType: 'x' }, { jobId: 'event-9' }), 'queued', 'requeue replaces it')
  for (let i = 0; i < 100 && seen.runs < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(seen.runs, 2, 'and it runs again')
})

t.test('an unreachable Redis makes enqueue fail fast instead of hanging', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  const { d, ready } = await dispatcherFor(t, `redis://127.0.0.1:${port}`, 300)
  t.equal(ready, false)
  const started = Date.now()
  await t.rejects(d.dispatcher.enqueueEvent({ inboxId: 1, eventType: 'x' }), /Redis is not connected/)
  await t.rejects(d.dispatcher.enqueueGrant({ fulfilmentId: 1 }), /Redis is not connected/)
  t.ok(Date.now() - started < 1000, 'rejected at once')
  const closing = Date.now()
  await d.close()
  t.ok(Date.now() - closing < 3000, 'close does not hang on an unreachable Redis')
})

t.test("events: 'outbox' queues no event from the request, and needs no Redis for it; grants still go to Redis", async (t) => {
  const prefix = createRedisPrefix(t)
  const d = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix, events: 'outbox' })
  t.teardown(() => d.close())
  t.equal(await d.ready(), true)
  await d.dispatcher.enqueueEvent({ inboxId: 11, eventType: 'lead_signup' })
  await d.dispatcher.enqueueGrant({ fulfilmentId: 12 })
  t.equal(await d.queues.events.count(), 0, 'the relay queues it, not the request')
  t.ok(await d.queues.grants.getJob('grant-12'), 'the grant is queued at once')

  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  const down = createBullDispatcher({ redisUrl: `redis://127.0.0.1:${port}`, prefix, events: 'outbox' })
  t.teardown(() => down.close())
  await t.resolves(down.dispatcher.enqueueEvent({ inboxId: 1, eventType: 'x' }), 'an ordinary event does not wait for Redis')
})

t.test('a grant announcement wakes the waits for that fulfilment in every api process, and only those', async (t) => {
  const prefix = createRedisPrefix(t)
  const a = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix })
  const b = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix })
  const publisher = new Redis(TEST_REDIS_URL)
  t.teardown(async () => { await a.close(); await b.close(); await publisher.quit() })
  // Subscribed by a first wait that times out.
  await Promise.all([a.dispatcher.waitForGrant(99, 50), b.dispatcher.waitForGrant(99, 50)])

  const started = Date.now()
  const waits = [a.dispatcher.waitForGrant(5, 5000), b.dispatcher.waitForGrant(5, 5000)]
  let otherDone = false
  const other = a.dispatcher.waitForGrant(6, 1500).then(() => { otherDone = true })
  await new Promise((resolve) => setTimeout(resolve, 100))
  await announceGrantSettled(publisher, prefix, 5, 'granted')
  await Promise.all(waits)
  t.ok(Date.now() - started < 2000, 'both woken by the announcement, well before the timeout')
  t.equal(otherDone, false, 'the wait for another fulfilment goes on')

  await announceGrantSettled(publisher, prefix, 7, 'failed')
  await new Promise((resolve) => setTimeout(resolve, 100))
  const late = Date.now()
  await a.dispatcher.waitForGrant(7, 5000)
  t.ok(Date.now() - late < 500, 'a grant announced before its wait began returns at once')
  await other
  await publisher.publish(`${prefix}:grant-settled`, 'not an announcement')
})

t.test('a fulfilment just recorded gets its grant job without a look first, batched with its neighbours', async (t) => {
  const { d } = await dispatcherFor(t)
  await Promise.all([
    d.dispatcher.enqueueGrant({ fulfilmentId: 51, unit: 'credits', amount: 5, created: true }),
    d.dispatcher.enqueueGrant({ fulfilmentId: 52, created: true }),
    d.dispatcher.enqueueGrant({ fulfilmentId: 51, unit: 'credits', amount: 5, created: true })
  ])
  t.equal(await d.queues.grants.count(), 2, 'one job per fulfilment, even asked twice in one batch')
  const job = await d.queues.grants.getJob(grantJobId(51))
  t.same(job?.data, { fulfilmentId: 51, unit: 'credits', amount: 5 }, 'with the reward it shows')
  t.equal(job?.opts.attempts, 2 ** 31 - 1, 'and the grant options')
  t.same((await d.queues.grants.getJob(grantJobId(52)))?.data, { fulfilmentId: 52 })
})

t.test('a wait says granted only for an announcement of its own job\'s grant, carrying its ticket', async (t) => {
  const prefix = createRedisPrefix(t)
  const d = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix })
  const publisher = new Redis(TEST_REDIS_URL)
  t.teardown(async () => { await d.close(); await publisher.quit() })
  t.ok(await d.ready())
  await d.dispatcher.enqueueGrant({ fulfilmentId: 61, created: true, ticket: 'mine-1' })
  await d.dispatcher.enqueueGrant({ fulfilmentId: 62, created: false, ticket: 'mine-2' })
  await d.dispatcher.enqueueGrant({ fulfilmentId: 63, created: true, ticket: 'not a ticket: spaces' })
  t.same((await d.queues.grants.getJob(grantJobId(61)))?.data, { fulfilmentId: 61, ticket: 'mine-1' }, 'a new job keeps the ticket')
  t.same((await d.queues.grants.getJob(grantJobId(62)))?.data, { fulfilmentId: 62 }, 'a re-fire\'s job may be another\'s: none')
  t.same((await d.queues.grants.getJob(grantJobId(63)))?.data, { fulfilmentId: 63 }, 'a malformed ticket is dropped')
  await d.dispatcher.waitForGrant(0, 20) // subscribed

  const heard = async (id: number, ticket: string | undefined, announce: () => Promise<unknown>) => {
    const wait = d.dispatcher.waitForGrant(id, 3000, ticket)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await announce()
    return wait
  }
  t.equal(await heard(61, 'mine-1', () => announceGrantSettled(publisher, prefix, 61, 'granted', 'mine-1')), 'granted', 'its own grant')
  t.equal(await heard(64, 'mine-4', () => announceGrantSettled(publisher, prefix, 64, 'granted', 'theirs')), undefined, 'someone else\'s job (another database under the prefix): the store decides')
  t.equal(await heard(65, 'mine-5', () => announceGrantSettled(publisher, prefix, 65, 'granted')), undefined, 'an announcement without a ticket')
  t.equal(await heard(66, 'mine-6', () => announceGrantSettled(publisher, prefix, 66, 'failed', 'mine-6')), undefined, 'a failure is read from the store')
  t.equal(await heard(67, undefined, () => announceGrantSettled(publisher, prefix, 67, 'granted', 'mine-7')), undefined, 'a wait without a ticket')
  t.equal(await d.dispatcher.waitForGrant(61, 3000, 'mine-1'), 'granted', 'heard before the wait began: at once, as granted')
  t.equal(await d.dispatcher.waitForGrant(61, 3000, 'other'), undefined, 'but not for another ticket')
})

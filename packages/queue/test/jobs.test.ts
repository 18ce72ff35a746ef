import { Worker, type Processor } from 'bullmq'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { createRedisPrefix, TEST_REDIS_URL, waitFor } from '@fp-webhooks/testing'
import {
  DEFAULT_GRANT_RETRY_MAX_DELAY_MS,
  GRANTS_QUEUE,
  MAINTENANCE_QUEUE,
  RECONCILE_JOB_ID,
  closeJobId,
  createBullDispatcher,
  grantJobId,
  grantRetryDelay
} from '../src/index.js'

const until = (predicate: () => Promise<boolean>, what: string) => waitFor(predicate, 5000, what)

async function setup (t: Test) {
  const prefix = createRedisPrefix(t)
  const d = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix })
  t.teardown(() => d.close())
  await d.ready()
  const workerOn = (queue: string, processor: Processor) => {
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null })
    const worker = new Worker(queue, processor, { connection, prefix, settings: { backoffStrategy: () => 60_000 } })
    t.teardown(async () => { await worker.close(); await connection.quit() })
    return worker
  }
  return { d, jobs: d.jobs, workerOn }
}

t.test('a close asked for again after a failed one runs again (BullMQ alone would ignore the add)', async (t) => {
  const { d, jobs, workerOn } = await setup(t)
  let runs = 0
  let fail = true
  workerOn(MAINTENANCE_QUEUE, async () => {
    runs++
    if (fail) { const err = new Error('401'); err.name = 'UnrecoverableError'; throw err }
  })
  t.equal(await jobs.close(5), 'queued')
  await until(async () => await d.queues.maintenance.getJobState(closeJobId(5)) === 'failed', 'the close to fail')
  fail = false
  t.equal(await jobs.close(5), 'queued', 'the failed job is replaced')
  await until(async () => await d.queues.maintenance.getJobState(closeJobId(5)) === 'completed', 'the second close')
  t.equal(runs, 2)
  t.equal(await jobs.close(5), 'queued', 'a completed one too')
  await until(async () => runs === 3, 'the third close')
})

t.test('a live job is left alone: one job however often it is asked for', async (t) => {
  const { d, jobs } = await setup(t)
  t.same(await Promise.all([jobs.grant(1), jobs.grant(1), jobs.grant(1)]).then((r) => r.filter((x) => x === 'queued').length >= 1), true)
  t.equal(await jobs.grant(1), 'already-queued')
  t.equal(await d.queues.grants.count(), 1)
  t.equal(await jobs.reconcile(), 'queued')
  t.equal(await jobs.reconcile(), 'already-queued', 'one reconciliation at a time')
  t.ok(await d.queues.maintenance.getJob(RECONCILE_JOB_ID), 'under a deterministic id')
})

t.test('grantNow runs a grant waiting out its backoff at once', async (t) => {
  const { d, jobs, workerOn } = await setup(t)
  let runs = 0
  workerOn(GRANTS_QUEUE, async () => { if (++runs === 1) throw new Error('billing API down') })
  await jobs.grant(7)
  await until(async () => await d.queues.grants.getJobState(grantJobId(7)) === 'delayed', 'the retry to be delayed (a minute)')
  t.equal(await jobs.grantNow(7), 'already-queued', 'promoted, not duplicated')
  await until(async () => await d.queues.grants.getJobState(grantJobId(7)) === 'completed', 'the promoted retry')
  t.equal(runs, 2)
})

t.test('grant retries: 1 s doubling, capped at an hour', async (t) => {
  t.same([1, 2, 3, 4, 12].map((n) => grantRetryDelay(n)), [1000, 2000, 4000, 8000, 2_048_000])
  t.equal(grantRetryDelay(13), DEFAULT_GRANT_RETRY_MAX_DELAY_MS)
  t.equal(grantRetryDelay(10_000), 3_600_000, 'no overflow after many attempts')
  let total = 0
  for (let n = 1; n <= 12; n++) total += grantRetryDelay(n)
  t.equal(Math.round(total / 60_000), 68, 'the 12th retry about 68 min after the first failure')
  t.same([1, 2, 3, 4].map((n) => grantRetryDelay(n, { delayMs: 10, maxDelayMs: 25 })), [10, 20, 25, 25])
})

t.test('a grant job shows its reward; run again by an operator, the new job keeps showing it', async (t) => {
  const { d, jobs, workerOn } = await setup(t)
  workerOn(GRANTS_QUEUE, async () => { const err = new Error('no such customer'); err.name = 'UnrecoverableError'; throw err })
  t.equal(await jobs.grant(11, { unit: 'credits', amount: 4 }), 'queued')
  t.same((await d.queues.grants.getJob(grantJobId(11)))?.data, { fulfilmentId: 11, unit: 'credits', amount: 4 })
  await until(async () => await d.queues.grants.getJobState(grantJobId(11)) === 'failed', 'the grant to fail')
  t.equal(await jobs.grantNow(11), 'queued', 'the failed job is replaced')
  t.same((await d.queues.grants.getJob(grantJobId(11)))?.data, { fulfilmentId: 11, unit: 'credits', amount: 4 }, 'with the same reward')
})

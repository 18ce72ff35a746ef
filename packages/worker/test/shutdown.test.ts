import t from 'tap'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { GRANTS_QUEUE, grantJobId } from '@fp-webhooks/queue'
import { TEST_REDIS_URL, fulfilment, ledgerCount, seedFulfilment, setup, sleep, startWorker, waitFor } from './helper.js'

t.test('close() waits for a running grant to finish and commit', async (t) => {
  const ctx = await setup(t)
  const timeline: string[] = []
  let started = false
  let finishedAt = 0
  const worker = await startWorker(t, ctx, {
    grants: {
      credits: async () => {
        started = true
        timeline.push('grant started')
        await sleep(500)
        finishedAt = Date.now()
        timeline.push('grant finished')
      }
    }
  })
  const f = await seedFulfilment(ctx.db, { unit: 'credits', amount: 12 })
  await worker.deps.enqueueGrant(f.id)
  await waitFor(() => started, 5000, 'the grant to start')

  const closeStarted = Date.now()
  await worker.close()
  const closedAt = Date.now()
  timeline.push('close resolved')

  t.same(timeline, ['grant started', 'grant finished', 'close resolved'])
  t.ok(closedAt >= finishedAt, 'close resolved after the grant function returned')
  t.ok(closedAt - closeStarted >= 300, `close waited for the job (${closedAt - closeStarted} ms)`)
  const row = await fulfilment(ctx.db, f.id)
  t.equal(row.state, 'granted', 'granted by the time close resolved')
  t.equal(await ledgerCount(ctx.db, f.id), 1)
  // The job finished as completed, not abandoned to the stalled-job check (the worker's own
  // queues are closed now, so look through a fresh connection).
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
  const grants = new Queue(GRANTS_QUEUE, { connection, prefix: ctx.prefix })
  t.teardown(async () => {
    await grants.close()
    await connection.quit()
  })
  const state = await grants.getJobState(grantJobId(f.id))
  t.equal(state, 'completed', 'the job completed before the worker let go')
})

t.test('close() with nothing running resolves promptly, and the closed worker takes no job', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  const started = Date.now()
  await worker.close()
  t.ok(Date.now() - started < 2000, `closed in ${Date.now() - started} ms`)

  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
  const grants = new Queue(GRANTS_QUEUE, { connection, prefix: ctx.prefix })
  t.teardown(async () => {
    await grants.close()
    await connection.quit()
  })
  const f = await seedFulfilment(ctx.db, { amount: 1 })
  await grants.add('grant', { fulfilmentId: f.id }, { jobId: grantJobId(f.id) })
  await sleep(300)
  t.equal(await grants.getJobState(grantJobId(f.id)), 'waiting', 'the job waits for a live worker')
  t.equal((await fulfilment(ctx.db, f.id)).state, 'pending', 'nothing granted after close')
})

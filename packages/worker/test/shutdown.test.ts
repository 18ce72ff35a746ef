import t from 'tap'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { GRANTS_QUEUE, grantJobId } from '@fp-webhooks/queue'
import { captureLogs } from '@fp-webhooks/testing'
import { pino } from 'pino'
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

t.test('close() is idempotent: a second call returns the first one\'s promise and closes nothing twice', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  const grants = worker.workers[0]!
  const closeGrants = grants.close.bind(grants)
  let calls = 0
  grants.close = async (force?: boolean) => { calls++; await closeGrants(force) }

  const first = worker.close()
  const second = worker.close()
  t.equal(second, first, 'the same promise')
  await Promise.all([first, second])
  await worker.close()
  t.equal(calls, 1, 'the grant worker was closed once')
})

t.test('close() with a failing step still closes the rest, and says which step failed', async (t) => {
  const ctx = await setup(t)
  const logs = captureLogs()
  // Every ioredis client quit from here on (BullMQ wraps ours in a proxy, so watch the class).
  const quitted = new Set<Redis>()
  const quit = Redis.prototype.quit
  Redis.prototype.quit = function (this: Redis, ...args: Parameters<typeof quit>) {
    quitted.add(this)
    return quit.apply(this, args)
  } as typeof quit
  t.teardown(() => { Redis.prototype.quit = quit })
  const worker = await startWorker(t, ctx, { logger: pino({ level: 'info' }, logs.stream) })
  const grants = worker.workers[0]!
  const closeGrants = grants.close.bind(grants)
  grants.close = async (force?: boolean) => {
    await closeGrants(force)
    throw new Error('grant worker close failed')
  }

  await t.resolves(worker.close(), 'close resolves')
  for (const w of worker.workers) t.ok(w.closing, `worker ${w.name} closed`)
  for (const q of Object.values(worker.queues)) t.ok(q.closing, `queue ${q.name} closed`)
  // Ours: the producer and one connection per worker (3).
  t.ok(quitted.size >= 4, `${quitted.size} Redis connections quit`)
  // quit() resolves on Redis's OK; the socket ends just after.
  await waitFor(() => [...quitted].every((c) => c.status === 'end'), 2000, () => `every connection to end (${[...quitted].map((c) => c.status).join(', ')})`)
  const failed = logs.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'worker close step failed; closing the rest')
  t.same(failed.map((l) => [l.step, l.err.message]), [['workers', 'grant worker close failed']], 'the failure is logged once, with its step')
})

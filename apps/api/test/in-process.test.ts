// One process: the worker inside the Fastify server, closed by app.close(). Two ways: the api's
// WORKER_IN_PROCESS=true, and a team's own server with createWorker and an onClose hook.
import { Queue } from 'bullmq'
import Fastify from 'fastify'
import t from 'tap'
import { createDb, createPostgresStore } from '@fp-webhooks/db'
import { GRANTS_QUEUE, createBullDispatcher } from '@fp-webhooks/queue'
import { TEST_REDIS_URL, createRedisPrefix, createTestDatabase } from '@fp-webhooks/testing'
import { createHandlers, createWorker, defineFirstPromoter, type FulfilmentWorker } from '@fp-webhooks/worker'
import fastifyFirstPromoter from 'fastify-firstpromoter'
import { pino } from 'pino'
import { SECRET, build, fixture, fulfilmentPayload, post, sleep, uniqueId, waitFor } from './helper.js'

/** A definition whose grant and handler leave rows behind, in the grant's own transaction. */
function sideEffects () {
  const handled: string[] = []
  const definition = defineFirstPromoter({
    grants: {
      async credits ({ fulfilment, tx }) {
        await tx.execute(`insert into granted_credits (fulfilment_id, amount) values (${Number(fulfilment.id)}, ${Number(fulfilment.amount)})` as never)
      }
    },
    handlers: createHandlers().on('reward_created', (event) => { handled.push(`${event.type} ${String(event.data.id)}`) })
  })
  return { definition, handled }
}

const stopped = (worker: FulfilmentWorker) => worker.workers.every((w) => !w.isRunning())

/** Whether a grant job added now stays waiting: no worker of this prefix takes it. */
async function nobodyTakesJobs (t: { teardown: (fn: () => unknown) => void }, prefix: string): Promise<boolean> {
  const queue = new Queue(GRANTS_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix })
  t.teardown(() => queue.close())
  const jobId = `after-close-${uniqueId()}`
  await queue.add('grant', { fulfilmentId: uniqueId() }, { jobId })
  await sleep(500)
  return await queue.getJobState(jobId) === 'waiting'
}

t.test('WORKER_IN_PROCESS: a delivery is granted with no separate worker, and app.close() closes the worker', async (t) => {
  const { definition, handled } = sideEffects()
  const app = await build(t, { definition, inProcessWorker: {} })
  await app.sql`create table granted_credits (fulfilment_id bigint primary key, amount int)`
  const worker = app.server.inProcessWorker!
  t.ok(worker, 'the worker runs in the api process')
  t.match(app.logs.lines.join(''), /definition module loaded/)

  const fulfilment = fulfilmentPayload({ unit: 'credits', amount: 3 })
  const answer = await post(app.server, fulfilment)
  t.equal(answer.statusCode, 200, answer.body)
  t.same(answer.json(), { fulfilment_id: fulfilment.data.id, state: 'granted' })
  t.same(await app.sql`select fulfilment_id::int, amount from granted_credits`, [{ fulfilment_id: fulfilment.data.id, amount: 3 }], "the definition's grant ran")
  t.equal((await post(app.server, { ...fulfilment, event: { ...fulfilment.event, id: uniqueId() } })).statusCode, 200, 'the re-fire gets 200')

  const reward = fixture('reward_created.json')
  reward.event.id = uniqueId()
  t.equal((await post(app.server, reward)).statusCode, 200)
  await waitFor(() => handled.length === 1, 10_000, 'the reward handler')
  t.same(handled, [`reward_created ${String(reward.data.id)}`])

  await app.server.close()
  t.ok(stopped(worker.worker), 'app.close() closed the worker')
  t.ok(await nobodyTakesJobs(t, app.prefix), 'and nothing consumes jobs any more')
})

t.test("a team's own server: the plugin and createWorker in one process, both closed by app.close()", async (t) => {
  const { url } = await createTestDatabase(t)
  const prefix = createRedisPrefix(t)
  const { definition, handled } = sideEffects()
  const { db, sql, close: closeDb } = createDb(url)
  await sql`create table granted_credits (fulfilment_id bigint primary key, amount int)`

  // As the root README's "one process" section shows it.
  const app = Fastify()
  const queue = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix })
  await app.register(fastifyFirstPromoter, {
    secrets: SECRET,
    store: createPostgresStore(db),
    dispatcher: queue.dispatcher
  })
  const worker = await createWorker({ db, redisUrl: TEST_REDIS_URL, prefix, definition, logger: pino({ level: 'silent' }) })
  app.addHook('onClose', async () => {
    await worker.close()
    await queue.close()
    await closeDb()
  })
  let closed = false
  t.teardown(async () => { if (!closed) await app.close() })

  const fulfilment = fulfilmentPayload({ unit: 'credits', amount: 5 })
  const answer = await post(app, fulfilment)
  t.equal(answer.statusCode, 200, answer.body)
  t.same(answer.json(), { fulfilment_id: fulfilment.data.id, state: 'granted' })
  const reward = fixture('reward_created.json')
  reward.event.id = uniqueId()
  t.equal((await post(app, reward)).statusCode, 200)
  await waitFor(() => handled.length === 1, 10_000, 'the reward handler')

  await app.close()
  closed = true
  t.ok(stopped(worker), 'app.close() closed the worker')
  t.ok(await nobodyTakesJobs(t, prefix), 'and nothing consumes jobs any more')
  const check = createDb(url, { max: 1 })
  t.teardown(() => check.close())
  t.same(await check.sql`select amount from granted_credits`, [{ amount: 5 }])
})

import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { startTcpProxy, TEST_PG_URL, TEST_REDIS_URL } from '@fp-webhooks/testing'
import t from 'tap'
import { build, fulfilmentPayload, post, sleep, startWorker, waitFor } from './helper.js'

/**
 * The api's Postgres and Redis hang right after the grant commits, so the api neither hears the
 * grant announced nor can read that it did: its settle step times out and it answers 202. Then the
 * hung connections either drop (the statements never run) or resume (the settle runs late, sees
 * the grant, and must not hide the 202).
 */
for (const afterwards of ['drop', 'resume'] as const) {
  t.test(`the api's Postgres stalls while it settles the answer, then the connections ${afterwards === 'drop' ? 'drop' : 'resume'}: 202, and exactly one API close`, async (t) => {
    const fake = await startFakeFirstPromoter()
    t.teardown(() => fake.close())
    const pg = new URL(TEST_PG_URL)
    const proxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) })
    t.teardown(() => proxy.close())
    const redis = new URL(TEST_REDIS_URL)
    const redisProxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) })
    t.teardown(() => redisProxy.close())
    // Only the api's connections go through the proxies; the worker's and the assertions' stay healthy.
    const app = await build(t, { apiDatabaseUrl: (url) => proxy.via(url), apiRedisUrl: (url) => redisProxy.via(url) })
    await startWorker(t, app, {
      api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } },
      sweepIntervalMs: 200,
      staleAfterMs: 1000,
      // Inside the grant's transaction: it commits, and from then on the api's Postgres and Redis
      // hang (the announcement of the grant never reaches it).
      grants: { free_months: () => { proxy.stall(); redisProxy.stall() } }
    })
    const body = fulfilmentPayload({ unit: 'free_months', amount: 2 })
    fake.addPayout({ id: body.data.id, amount: 2, unit: 'free_months', promoter: { id: body.data.promoter.id, cust_id: '', email: null } })

    const res = await post(app.server, body)
    t.equal(res.statusCode, 202, 'the settle step timed out: FirstPromoter is told "pending"')
    t.same(res.json(), { fulfilment_id: body.data.id, state: 'pending' })
    const row = async () => (await app.sql`select state, api_close from fulfilments where id = ${body.data.id}`)[0]
    t.equal((await row()).state, 'granted', 'while the grant had committed')

    if (afterwards === 'drop') { proxy.reset(); redisProxy.reset() }
    await proxy.restore()
    await redisProxy.restore()
    await waitFor(async () => (await row()).api_close === 'done', 20_000, 'the close through the API')
    t.equal(fake.getPayout(body.data.id)?.status, 'completed')
    await waitFor(async () => (await app.sql`select count(*)::int as n from fulfilment_answers where fulfilment_id = ${body.data.id}`)[0].n > 0, 20_000, 'the answer history')
    const answers = await app.sql`select status_code from fulfilment_answers where fulfilment_id = ${body.data.id} order by id`
    t.same(answers.map((a: any) => a.status_code), [202], 'the 202 is in the history, once')

    // FirstPromoter's next check is answered 200, and nothing is closed again.
    const refire = await post(app.server, fulfilmentPayload({ id: body.data.id, unit: 'free_months', amount: 2 }))
    t.equal(refire.statusCode, 200)
    await sleep(800)
    t.equal(fake.closeCalls(body.data.id).length, 1, 'exactly one close call')
    t.equal((await row()).api_close, 'done')
  })
}

t.test('the api\'s Postgres stalls right after the grant, but the api hears its own grant: 200 without a read, noted once Postgres is back, no API close', async (t) => {
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const pg = new URL(TEST_PG_URL)
  const proxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) })
  t.teardown(() => proxy.close())
  const app = await build(t, { apiDatabaseUrl: (url) => proxy.via(url) })
  await startWorker(t, app, {
    api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } },
    sweepIntervalMs: 200,
    staleAfterMs: 1000,
    grants: { free_months: () => { proxy.stall() } }
  })
  const body = fulfilmentPayload({ unit: 'free_months', amount: 2 })
  const res = await post(app.server, body)
  t.equal(res.statusCode, 200, 'its own job\'s grant was announced: granted, whatever Postgres does now')
  t.same(res.json(), { fulfilment_id: body.data.id, state: 'granted' })
  const answers = async () => (await app.sql`select status_code from fulfilment_answers where fulfilment_id = ${body.data.id}`).map((a: any) => a.status_code)
  t.same(await answers(), [], 'the 200 is not noted while the api\'s Postgres hangs')

  await proxy.restore()
  await waitFor(async () => (await answers()).length > 0, 10_000, 'the 200 noted')
  t.same(await answers(), [200], 'noted once')
  const [row] = await app.sql`select state, awaiting_answer, api_close from fulfilments where id = ${body.data.id}`
  t.same(row, { state: 'granted', awaiting_answer: false, api_close: 'not_needed' }, 'FirstPromoter closes it itself')
  await sleep(1500) // past the sweeper's grace
  t.equal(fake.closeCalls(body.data.id).length, 0, 'no close through the API')
})

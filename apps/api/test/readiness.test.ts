import { startTcpProxy, TEST_PG_URL, TEST_REDIS_URL } from '@fp-webhooks/testing'
import t from 'tap'
import { build, fixture, post, waitFor } from './helper.js'

t.test('/readyz follows Postgres and Redis going away and coming back', async (t) => {
  const pgProxy = await startTcpProxy({
    host: new URL(TEST_PG_URL).hostname,
    port: Number(new URL(TEST_PG_URL).port || 5432)
  })
  const redisProxy = await startTcpProxy({
    host: new URL(TEST_REDIS_URL).hostname,
    port: Number(new URL(TEST_REDIS_URL).port || 6379)
  })
  t.teardown(async () => { await pgProxy.close(); await redisProxy.close() })
  // The test database exists on the real server; the app reaches both only through the proxies.
  const probe = await build(t)
  const app = await build(t, {
    env: { DATABASE_URL: pgProxy.via(probe.dbUrl), REDIS_URL: redisProxy.via(TEST_REDIS_URL) }
  })
  const ready = async () => (await app.server.inject({ method: 'GET', url: '/readyz' }))

  t.equal((await ready()).statusCode, 200)

  await pgProxy.cut()
  const downPg = await ready()
  t.equal(downPg.statusCode, 503)
  t.match(downPg.json(), { postgres: /^error|timeout/, redis: 'ok' })
  t.equal((await post(app.server, fixture('lead_signup.json'))).statusCode, 503, 'no 2xx while Postgres is away')
  await pgProxy.restore()
  await waitFor(async () => (await ready()).statusCode === 200, 10_000, 'ready after Postgres returns')
  t.equal((await post(app.server, fixture('lead_signup.json'))).statusCode, 200, 'deliveries succeed again by themselves')

  await redisProxy.cut()
  await waitFor(async () => (await ready()).statusCode === 503, 5000, 'not ready without Redis')
  t.match((await ready()).json(), { postgres: 'ok' })
  await redisProxy.restore()
  await waitFor(async () => (await ready()).statusCode === 200, 15_000, 'ready after Redis returns')

  // A connection accepted and dropped at once (a balancer with no backend) must not hang a delivery.
  await pgProxy.blackhole()
  const started = Date.now()
  const res = await post(app.server, fixture('reward_created.json'))
  t.equal(res.statusCode, 503)
  t.ok(Date.now() - started < 8000, `answered 503 within the store timeout (${Date.now() - started} ms)`)
  await pgProxy.restore()
})

import { closedPort } from '@fp-webhooks/testing'
import t from 'tap'
import { build, fixture, fulfilmentPayload, post, startWorker, waitFor } from './helper.js'

t.test('Redis unreachable: ordinary events 200, fulfilments 202, all stored; the sweeper catches up', async (t) => {
  const port = await closedPort()
  const app = await build(t, { env: { REDIS_URL: `redis://127.0.0.1:${port}` } })
  const lead = fixture('lead_signup.json')
  const res = await post(app.server, lead)
  t.equal(res.statusCode, 200, res.body)
  const ful = fulfilmentPayload()
  const res2 = await post(app.server, ful)
  t.equal(res2.statusCode, 202, res2.body)
  const rows = await app.sql`select event_type, state from webhook_events order by id`
  t.same(rows.map((r: any) => [r.event_type, r.state]), [['lead_signup', 'pending'], ['fulfilment_pending', 'pending']])
  const f = await app.sql`select state, answered_pending from fulfilments where id = ${ful.data.id}`
  t.same(f[0], { state: 'pending', answered_pending: true })
  t.match(app.logs.text(), 'queue unreachable')

  // Redis is back (the worker uses the real one): the start-up sweep enqueues what was left.
  await startWorker(t, { dbUrl: app.dbUrl, prefix: app.prefix })
  await waitFor(async () => (await app.sql`select state from fulfilments where id = ${ful.data.id}`)[0].state === 'granted', 10_000, 'grant after sweep')
  await waitFor(async () => (await app.sql`select count(*)::int as n from webhook_events where state = 'processed' and event_type = 'lead_signup'`)[0].n === 1, 10_000, 'event processed after sweep')
  t.equal((await app.sql`select count(*)::int as n from ledger_entries`)[0].n, 1)
})

t.test('Postgres unreachable: 503, never 2xx, and nothing half-written', async (t) => {
  const port = await closedPort()
  const app = await build(t, { env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nothing` } })
  for (const body of [fixture('lead_signup.json'), fulfilmentPayload()]) {
    const res = await post(app.server, body)
    t.equal(res.statusCode, 503, res.body)
    t.equal(res.json().code, 'FST_FIRSTPROMOTER_STORE_UNAVAILABLE')
    t.equal(res.headers['retry-after'], '30')
  }
  const ready = await app.server.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', redis: 'ok' })
  t.notMatch(app.logs.text(), 'test-secret-0123456789abcdef')
})

t.test('readyz is 200 when both answer', async (t) => {
  const app = await build(t)
  const ready = await app.server.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', postgres: 'ok', redis: 'ok' })
  t.equal((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
})

import { listStalePendingEvents } from '@fp-webhooks/db'
import { fixture as example, fixtureNames } from '@fp-webhooks/testing'
import t from 'tap'
import { build, fixture, post, startWorker, waitFor } from './helper.js'

// The v2 fixtures, each documented or constructed from the docs (their README says which).
const v2Names = fixtureNames('v2')
const v2 = (name: string) => example(`v2/${name}`)
const isTest = (name: string) => name.startsWith('test-delivery')
/**
 * A fixture with an event id of its own: several documented examples share one (the docs reuse
 * their sample UUIDs), and one id is one event. The bare test delivery has none.
 */
function v2Event (name: string) {
  const body = v2(name)
  if (body.event_id) body.event_id = `${name}:${body.event_id}`
  return body
}

t.test('every v2 fixture is accepted by default and stored once, duplicates deduped with and without X-Event-Id', async (t) => {
  const app = await build(t)
  t.equal(app.config.FP_ACCEPT_V2, true, 'v2 is on without any setting')
  t.ok(v2Names.length >= 20, `${v2Names.length} fixtures`)
  for (const [i, name] of v2Names.entries()) {
    const body = v2Event(name)
    const headers: Record<string, string> = body.event_id ? { 'x-event-id': body.event_id, 'x-event-type': body.event_type } : {}
    // Half are first sent with FirstPromoter's headers, half without; then the other way round.
    const [first, second] = i % 2 === 0 ? [headers, {}] : [{}, headers]
    const res = await post(app.server, body, { headers: first })
    t.equal(res.statusCode, 200, `${name}: ${res.body}`)
    t.same(res.json(), { received: true, duplicate: false, ...(isTest(name) ? { test: true } : {}) }, `${name}: stored`)
    const again = await post(app.server, body, { headers: second })
    t.equal(again.statusCode, 200, `${name} again: 200`)
    t.equal(again.json().duplicate, true, `${name} again: a duplicate`)
  }
  const rows = await app.sql`select source, event_id, event_type, state from webhook_events order by id`
  t.equal(rows.length, v2Names.length, 'one inbox row per fixture')
  t.ok(rows.every((r) => r.source === 'v2'), 'all stored as v2')
  for (const [i, name] of v2Names.entries()) {
    const body = v2Event(name)
    if (body.event_id) t.equal(rows[i]!.event_id, body.event_id, `${name}: keyed on its event_id`)
    t.equal(rows[i]!.state, isTest(name) ? 'test' : 'pending', `${name}: ${isTest(name) ? 'a test' : 'pending its processing'}`)
  }
  t.equal((await app.sql`select count(*)::int as n from quarantine`)[0]!.n, 0, 'nothing quarantined')
})

t.test('X-Event-Id that disagrees with event_id: 400 with the reason, quarantined, nothing stored', async (t) => {
  const app = await build(t)
  const body = v2('commission.updated.json')
  const res = await post(app.server, body, { headers: { 'x-event-id': 'not-the-same-id' } })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', message: 'Invalid webhook envelope: the X-Event-Id header does not match event_id', errors: [{ path: '/event_id' }] })
  t.equal((await app.sql`select count(*)::int as n from webhook_events`)[0]!.n, 0)
  const q = await app.sql`select status_code, reason, body from quarantine`
  t.equal(q.length, 1)
  t.equal(q[0]!.status_code, 400)
  t.equal(JSON.parse(q[0]!.body).event_id, body.event_id, 'the body is kept for a human')
  t.equal((await post(app.server, body, { headers: { 'x-event-id': body.event_id } })).statusCode, 200, 'with the right header it is stored')
})

t.test('FP_ACCEPT_V2=false: a v2 body gets a 400 that says so and is quarantined; v1 still flows', async (t) => {
  const app = await build(t, { env: { FP_ACCEPT_V2: 'false' } })
  for (const name of ['commission.updated.json', 'test-delivery-bare.json']) {
    const res = await post(app.server, v2(name))
    t.equal(res.statusCode, 400, name)
    t.match(res.json().message, /v2 envelope.*accepts v1 only \(acceptV2 is off\)/, `${name}: the reason`)
  }
  t.equal((await app.sql`select count(*)::int as n from quarantine where status_code = 400`)[0]!.n, 2, 'both quarantined')
  t.equal((await post(app.server, fixture('lead_signup.json'))).statusCode, 200)
  t.same((await app.sql`select source from webhook_events`).map((r) => r.source), ['v1'])
})

t.test('test deliveries: 200, stored as tests, never processed, swept or replayed into processing', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: 'admin-token-0123456789abcdef', METRICS_REFRESH_MS: '100' } })
  for (const name of ['test-delivery.json', 'test-delivery-bare.json']) {
    const res = await post(app.server, v2(name))
    t.equal(res.statusCode, 200)
    t.same(res.json(), { received: true, duplicate: false, test: true })
  }
  const real = v2('promoter.created.json')
  t.equal((await post(app.server, real)).statusCode, 200)

  t.same(await listStalePendingEvents(app.db, 0, 100).then((rows) => rows.map((r) => r.eventType)), ['promoter.created'], 'the pending backlog holds the real event only')
  const counts = await app.sql`select state, count(*)::int as n from webhook_events group by state order by state`
  t.same(counts.map((r) => [r.state, r.n]), [['pending', 1], ['test', 2]])

  // A worker whose start-up sweep takes every pending row at once, then an operator's replay.
  await startWorker(t, app, { staleAfterMs: 0 })
  await waitFor(async () => (await app.sql`select state from webhook_events where event_id = ${real.event_id}`)[0].state === 'processed', 10_000, 'the real event processed')
  const tests = await app.sql`select id from webhook_events where state = 'test' order by id`
  for (const { id } of tests) {
    const replay = await app.server.inject({ method: 'POST', url: `/admin/events/${id}/replay`, headers: { authorization: 'Bearer admin-token-0123456789abcdef' } })
    t.equal(replay.statusCode, 202, replay.body)
  }
  // The replayed jobs ran (or were skipped) by the time this real event, queued after them, is processed.
  const later = { ...v2('promoter.updated.json'), event_id: 'after-the-replays' }
  t.equal((await post(app.server, later)).statusCode, 200)
  await waitFor(async () => (await app.sql`select state from webhook_events where event_id = 'after-the-replays'`)[0].state === 'processed', 10_000, 'a later event processed')
  const after = await app.sql`select state, attempts, processed_at from webhook_events where state <> 'processed' order by id`
  t.same(after.map((r) => [r.state, r.attempts, r.processed_at]), [['test', 0, null], ['test', 0, null]], 'the tests were never processed')

  const gauge = async () => (await app.server.inject({ method: 'GET', url: '/metrics' })).body
  await waitFor(async () => /fp_inbox_events\{state="test"\} 2/.test(await gauge()), 10_000, 'the inbox gauge to count the tests apart')
})

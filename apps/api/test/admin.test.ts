import { PermanentGrantError } from '@fp-webhooks/worker'
import t from 'tap'
import { build, fixture, fulfilmentPayload, post, startWorker, waitFor } from './helper.js'

const TOKEN = 'admin-token-0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}` }

t.test('admin routes are absent without ADMIN_TOKEN', async (t) => {
  const app = await build(t)
  for (const url of ['/admin/events', '/admin/fulfilments/1', '/admin/queues/']) {
    t.equal((await app.server.inject({ method: 'GET', url, headers: auth })).statusCode, 404, url)
  }
})

t.test('admin routes need the token: 401 without or with a wrong one', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }]) {
    const res = await app.server.inject({ method: 'GET', url: '/admin/events', headers })
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'ADMIN_UNAUTHORIZED')
  }
  t.equal((await app.server.inject({ method: 'GET', url: '/admin/queues/', headers: {} })).statusCode, 401, 'the dashboard too')
  const basic = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`
  t.equal((await app.server.inject({ method: 'GET', url: '/admin/queues/', headers: { authorization: basic } })).statusCode, 200, 'the dashboard opens with Basic auth')
  t.notMatch(app.logs.text(), TOKEN, 'the token is never logged')
})

t.test('events: list, filter, get with history; replay of a granted fulfilment grants nothing new', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  await startWorker(t, app)
  const lead = fixture('lead_signup.json')
  t.equal((await post(app.server, lead)).statusCode, 200)
  const ful = fulfilmentPayload({ amount: 4 })
  t.equal((await post(app.server, ful)).statusCode, 200)

  const list = await app.server.inject({ method: 'GET', url: '/admin/events?type=fulfilment_pending', headers: auth })
  t.equal(list.statusCode, 200)
  t.equal(list.json().events.length, 1)
  t.notOk('payload' in list.json().events[0], 'lists carry no payloads')
  const id = list.json().events[0].id

  const one = await app.server.inject({ method: 'GET', url: `/admin/events/${id}`, headers: auth })
  t.equal(one.statusCode, 200)
  t.equal(one.json().fulfilment.state, 'granted')
  t.equal(one.json().event.payload.data.promoter.auth_token, '[REDACTED]')
  await waitFor(async () => (await app.server.inject({ method: 'GET', url: `/admin/fulfilments/${ful.data.id}`, headers: auth })).json().answers.length === 1, 5000, 'answer history')

  for (let i = 0; i < 3; i++) {
    const replay = await app.server.inject({ method: 'POST', url: `/admin/events/${id}/replay`, headers: auth })
    t.equal(replay.statusCode, 202)
    t.match(replay.json(), { eventType: 'fulfilment_pending', fulfilment: { id: ful.data.id, state: 'granted', grant: 'not-needed' } })
  }
  await waitFor(async () => (await app.sql`select state from webhook_events where id = ${id}`)[0].state === 'processed', 5000, 'replayed event processed')
  t.equal((await app.sql`select count(*)::int as n from ledger_entries`)[0].n, 1, 'still one ledger row')
  t.equal((await app.sql`select sum(amount)::int as b from ledger_entries`)[0].b, 4)

  t.equal((await app.server.inject({ method: 'GET', url: '/admin/events/999999', headers: auth })).statusCode, 404)
  t.equal((await app.server.inject({ method: 'GET', url: '/admin/events/abc', headers: auth })).statusCode, 400)
})

t.test('fulfilments: list by state, retry a failed one after its cause is fixed', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  let customerExists = false
  await startWorker(t, app, { grants: { credits: () => { if (!customerExists) throw new PermanentGrantError('no such customer') } } })
  const ful = fulfilmentPayload({ unit: 'credits', amount: 10 })
  t.equal((await post(app.server, ful)).statusCode, 422)
  const failed = await app.server.inject({ method: 'GET', url: '/admin/fulfilments?state=failed', headers: auth })
  t.same(failed.json().fulfilments.map((f: any) => [f.id, f.failureReason]), [[ful.data.id, 'no such customer']])

  customerExists = true
  const retry = await app.server.inject({ method: 'POST', url: `/admin/fulfilments/${ful.data.id}/retry`, headers: auth })
  t.equal(retry.statusCode, 202)
  await waitFor(async () => (await app.sql`select state from fulfilments where id = ${ful.data.id}`)[0].state === 'granted', 10_000, 'granted after retry')
  t.equal((await app.sql`select count(*)::int as n from ledger_entries`)[0].n, 1)
  const again = await app.server.inject({ method: 'POST', url: `/admin/fulfilments/${ful.data.id}/retry`, headers: auth })
  t.equal(again.statusCode, 409, 'only a failed fulfilment can be retried')
  t.equal((await post(app.server, ful)).statusCode, 200, "FirstPromoter's next re-fire is answered 200")
})

t.test('quarantine: list and resubmit a corrected body through the normal path', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  const broken = fixture('reward_created.json')
  delete broken.event.type
  t.equal((await post(app.server, broken)).statusCode, 400)
  const list = await app.server.inject({ method: 'GET', url: '/admin/quarantine', headers: auth })
  const entry = list.json().deliveries[0]
  t.match(entry.reason, /event\/type/)

  const asIs = await app.server.inject({ method: 'POST', url: `/admin/quarantine/${entry.id}/resubmit`, headers: auth, payload: {} })
  t.equal(asIs.statusCode, 422, 'the unchanged body is still refused')
  const fixed = JSON.parse(entry.body)
  fixed.event.type = 'reward_created'
  const res = await app.server.inject({ method: 'POST', url: `/admin/quarantine/${entry.id}/resubmit`, headers: auth, payload: { body: fixed } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { resubmitted: true, status_code: 200 })
  t.equal((await app.sql`select count(*)::int as n from webhook_events where event_type = 'reward_created'`)[0].n, 1)
  t.ok((await app.sql`select resubmitted_at from quarantine where id = ${entry.id}`)[0].resubmitted_at)
})

t.test('reconcile is queued for the worker; admin is rate limited', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN, FP_API_KEY: 'fp-test-key' } })
  const res = await app.server.inject({ method: 'POST', url: '/admin/reconcile', headers: auth })
  t.equal(res.statusCode, 202)
  t.match(res.json(), { queued: true })
  t.equal(await app.server.queue.queues.maintenance.count(), 1)
  let limited = 0
  for (let i = 0; i < 130; i++) {
    const r = await app.server.inject({ method: 'GET', url: '/admin/fulfilments?limit=1', headers: auth })
    if (r.statusCode === 429) limited++
  }
  t.ok(limited > 0, `rate limited after 120 a minute (${limited} refused)`)
})

t.test('reconcile without FP_API_KEY is refused with 409 and the reason, and nothing is queued', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  const res = await app.server.inject({ method: 'POST', url: '/admin/reconcile', headers: auth })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { statusCode: 409, code: 'ADMIN_RECONCILE_NOT_CONFIGURED', error: 'Conflict', message: /FP_API_KEY/ })
  t.equal(await app.server.queue.queues.maintenance.count(), 0, 'no job that would do nothing')
  const line = app.logs.lines.map((l: string) => JSON.parse(l)).find((l: any) => l.msg === 'admin: reconcile refused')
  t.match(line, { level: 40, reason: /FP_API_KEY/ }, 'logged at warn with the reason')
})

t.test('a fulfilment whose built-in ledger grant keeps failing can be retried now by an operator', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN, FP_FULFILMENT_WAIT_MS: '300' } })
  await app.sql`create function refuse_ledger_rows() returns trigger language plpgsql as $$ begin raise exception 'ledger_entries is read-only during maintenance'; end $$`
  await app.sql`create trigger ledger_read_only before insert on ledger_entries for each row execute function refuse_ledger_rows()`
  // Its next retry is a minute away: only the operator's retry can grant it within this test.
  await startWorker(t, app, { grantRetry: { delayMs: 60_000, maxDelayMs: 60_000 } })
  const ful = fulfilmentPayload({ amount: 3 })
  t.equal((await post(app.server, ful)).statusCode, 202, 'pending while the ledger refuses')
  await waitFor(async () => /read-only/.test((await app.sql`select last_error from fulfilments where id = ${ful.data.id}`)[0].last_error ?? ''), 5000, 'last_error recorded')
  const seen = await app.server.inject({ method: 'GET', url: `/admin/fulfilments/${ful.data.id}`, headers: auth })
  t.match(seen.json().fulfilment, { state: 'pending', lastError: /read-only during maintenance/ }, 'the admin API shows why')

  await app.sql`drop trigger ledger_read_only on ledger_entries`
  const retry = await app.server.inject({ method: 'POST', url: `/admin/fulfilments/${ful.data.id}/retry`, headers: auth })
  t.equal(retry.statusCode, 202, retry.body)
  await waitFor(async () => (await app.sql`select state from fulfilments where id = ${ful.data.id}`)[0].state === 'granted', 10_000, 'granted after the retry')
  t.equal((await app.sql`select count(*)::int as n from ledger_entries where fulfilment_id = ${ful.data.id}`)[0].n, 1)
  const again = await app.server.inject({ method: 'POST', url: `/admin/fulfilments/${ful.data.id}/retry`, headers: auth })
  t.equal(again.statusCode, 409, 'a granted fulfilment has nothing to retry')
})

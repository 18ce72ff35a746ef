import { webhookEvents } from '@fp-webhooks/db'
import t from 'tap'
import { DOCUMENTED_EXAMPLES, captureLogs, fixtureNames } from '@fp-webhooks/testing'
import { pino } from 'pino'
import { SECRET, build, fixture, post, startWorker, waitFor } from './helper.js'

// Every credential value the docs' examples carry: none may be stored or logged.
function secretValues (doc: any, out: string[] = []): string[] {
  if (doc && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      if ((k === 'auth_token' || k === 'temp_password') && typeof v === 'string') out.push(v)
      else if (k === 'default_webhook_url' && typeof v === 'string') out.push(new URL(v).pathname.length > 1 ? new URL(v).pathname : v)
      else secretValues(v, out)
    }
  }
  return out
}

t.test('every example from the docs is accepted, stored once and redacted', async (t) => {
  const app = await build(t)
  await startWorker(t, app)
  const names = fixtureNames().filter((n) => (DOCUMENTED_EXAMPLES as readonly string[]).includes(n.replace(/\.json$/, '')))
  t.equal(names.length, 9, 'all nine examples are fixtures')
  const leaked: string[] = [SECRET]

  for (const name of names) {
    const body = fixture(name)
    // Our own URL, secret included, as FirstPromoter echoes it back.
    const campaign = body.data?.campaign
    if (campaign) campaign.default_webhook_url = `https://hooks.example.com/webhooks/firstpromoter/${SECRET}`
    leaked.push(...secretValues(body).filter((v) => !v.startsWith('/webhooks') && v.length > 3))
    const res = await post(app.server, body)
    t.ok(res.statusCode >= 200 && res.statusCode < 300, `${name}: 2xx (got ${res.statusCode} ${res.body})`)
    t.notMatch(res.body, SECRET, `${name}: the answer does not echo the secret`)
    // The same delivery again is a duplicate, answered the same way.
    const again = await post(app.server, body)
    t.equal(again.statusCode, res.statusCode, `${name}: a duplicate gets the same answer`)
  }

  const rows = await app.db.select().from(webhookEvents)
  // new_customer and lead_becomes_referral are one "first payment" of one lead: one row.
  t.equal(rows.length, names.length - 1, 'one inbox row per delivery, the two first-payment events as one')
  const types = rows.map((r) => r.eventType).sort()
  t.ok(types.includes('lead_becomes_referral') !== types.includes('new_customer'), 'only the first of the two first-payment events is kept')

  const stored = JSON.stringify(rows.map((r) => r.payload))
  for (const value of leaked) t.notMatch(stored, value, `stored payloads do not contain ${value.slice(0, 4)}…`)
  t.match(stored, '"auth_token":"[REDACTED]"')
  t.match(stored, '"temp_password":"[REDACTED]"')
  t.match(stored, '"default_webhook_url":"https://hooks.example.com/[REDACTED]"')
  const quarantined = await app.sql`select count(*)::int as n from quarantine`
  t.equal(quarantined[0]!.n, 0)

  const logText = app.logs.text()
  t.ok(app.logs.lines.length > 20, 'logs were captured')
  for (const value of leaked) t.notMatch(logText, value, `logs do not contain ${value.slice(0, 4)}…`)
  t.match(logText, '/webhooks/firstpromoter/[REDACTED]')

  const ids = await app.sql`select count(distinct (source, event_id))::int as n from webhook_events`
  t.equal(ids[0]!.n, rows.length)
})

t.test('string ids, null and negative balances, missing fields and extra fields are accepted', async (t) => {
  const app = await build(t)
  const lead = fixture('lead_signup.json')
  lead.event.id = String(lead.event.id)
  lead.data.id = String(lead.data.id)
  lead.data.promoter.earnings_balance = null
  lead.data.promoter.current_balance = { cash: -1500, credits: -2 }
  lead.data.promoter.profile = null
  lead.data.something_new = { nested: [1, 2, 3] }
  delete lead.data.email
  const res = await post(app.server, lead)
  t.equal(res.statusCode, 200, res.body)
  const row = await app.sql`select event_id, payload from webhook_events`
  t.equal(row[0]!.event_id, lead.event.id)
  t.same(row[0]!.payload.data.something_new, { nested: [1, 2, 3] }, 'unknown fields are kept as they came')
})

t.test('an unknown event type is stored and answered 200', async (t) => {
  const app = await build(t)
  const res = await post(app.server, { event: { id: 77, type: 'payout_sent', created_at: '2024-10-03T14:23:20.887Z' }, data: { anything: true } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { received: true, duplicate: false })
  const rows = await app.sql`select event_type, state from webhook_events`
  t.same(rows.map((r) => r.event_type), ['payout_sent'])
})

t.test('an ordinary event with odd data is never refused', async (t) => {
  const app = await build(t)
  const body = fixture('reward_created.json')
  body.data.amount = 'lots'
  body.data.promoter = 'not an object'
  const res = await post(app.server, body)
  t.equal(res.statusCode, 200)
  // The worker, off the request path, tells the operator the shape has drifted.
  const workerLogs = captureLogs()
  await startWorker(t, app, { logger: pino({ level: 'warn' }, workerLogs.stream) })
  await waitFor(async () => (await app.sql`select state from webhook_events`)[0].state === 'processed', 10_000, 'processed')
  t.match(workerLogs.text(), 'differs from the documented shape')
  t.match(workerLogs.text(), '/data/amount')
})

t.test('a rotated-out-but-still-listed secret works; the route answers both', async (t) => {
  const app = await build(t)
  const res = await post(app.server, fixture('lead_signup.json'), { url: '/webhooks/firstpromoter/old-secret-abcdef0123456789' })
  t.equal(res.statusCode, 200)
})

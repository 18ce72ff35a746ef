import t from 'tap'
import { SECRET, WEBHOOK, build, fixture, fulfilmentPayload, post } from './helper.js'

async function counts (app: { sql: any }) {
  const [inbox] = await app.sql`select count(*)::int as n from webhook_events`
  const [quarantine] = await app.sql`select count(*)::int as n from quarantine`
  return { inbox: inbox.n, quarantine: quarantine.n }
}

t.test('each bad input gets its status and a reason, nothing reaches the inbox, the server keeps serving', async (t) => {
  const app = await build(t, { env: { FP_BODY_LIMIT: '4096' } })
  const cases: Array<{
    name: string
    send: () => Promise<{ statusCode: number, json: () => any, body: string }>
    status: number
    code: string
    quarantined: boolean
    reason?: RegExp
  }> = [
    { name: 'not JSON', send: () => post(app.server, '{"event": {"id": 1,'), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_JSON', quarantined: true },
    { name: 'empty JSON body', send: () => post(app.server, ''), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_JSON', quarantined: true, reason: /empty/ },
    { name: 'text/plain', send: () => post(app.server, JSON.stringify(fixture('lead_signup.json')), { headers: { 'content-type': 'text/plain' } }), status: 415, code: 'FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE', quarantined: true, reason: /text\/plain/ },
    { name: 'form encoded', send: () => post(app.server, 'event=1', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), status: 415, code: 'FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE', quarantined: true },
    { name: 'too large', send: () => post(app.server, { event: { id: 1, type: 'lead_signup' }, data: { pad: 'x'.repeat(5000) } }), status: 413, code: 'FST_FIRSTPROMOTER_BODY_TOO_LARGE', quarantined: true },
    { name: '__proto__ key', send: () => post(app.server, '{"event":{"id":1,"type":"lead_signup"},"data":{"__proto__":{"admin":true}}}'), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_JSON', quarantined: true, reason: /prototype/ },
    { name: 'no event', send: () => post(app.server, { data: {} }), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', quarantined: true, reason: /\/event/ },
    { name: 'event id not numeric', send: () => post(app.server, { event: { id: '12a', type: 'lead_signup' }, data: {} }), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', quarantined: true, reason: /\/event\/id/ },
    { name: 'data is an array', send: () => post(app.server, { event: { id: 5, type: 'lead_signup' }, data: [] }), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', quarantined: true, reason: /\/data/ },
    { name: 'a JSON array', send: () => post(app.server, '[1,2,3]'), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', quarantined: true },
    { name: 'nested 200 deep', send: () => post(app.server, `{"event":{"id":1,"type":"x"},"data":${'['.repeat(200)}${']'.repeat(200)}}`), status: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', quarantined: true, reason: /nested deeper/ },
    {
      name: 'fulfilment without an amount',
      send: () => { const b = fulfilmentPayload(); delete b.data.amount; return post(app.server, b) },
      status: 400,
      code: 'FST_FIRSTPROMOTER_INVALID_FULFILMENT',
      quarantined: true,
      reason: /\/data\/amount/
    },
    {
      name: 'fulfilment with a negative amount',
      send: () => post(app.server, fulfilmentPayload({ amount: -3 })),
      status: 400,
      code: 'FST_FIRSTPROMOTER_INVALID_FULFILMENT',
      quarantined: true,
      reason: /\/data\/amount/
    },
    { name: 'wrong secret', send: () => post(app.server, fixture('lead_signup.json'), { url: '/webhooks/firstpromoter/test-secret-0123456789abcdeg' }), status: 404, code: 'FST_FIRSTPROMOTER_NOT_FOUND', quarantined: false },
    { name: 'no secret', send: () => post(app.server, fixture('lead_signup.json'), { url: '/webhooks/firstpromoter/' }), status: 404, code: 'FST_FIRSTPROMOTER_NOT_FOUND', quarantined: false },
    { name: 'GET on the route', send: () => app.server.inject({ method: 'GET', url: WEBHOOK }) as any, status: 404, code: 'FST_FIRSTPROMOTER_NOT_FOUND', quarantined: false }
  ]

  for (const c of cases) {
    const before = await counts(app)
    const res = await c.send()
    t.equal(res.statusCode, c.status, `${c.name}: ${c.status} (${res.body.slice(0, 200)})`)
    const body = res.json()
    t.equal(body.code, c.code, `${c.name}: code`)
    t.type(body.message, 'string', `${c.name}: a reason`)
    if (c.reason) t.match(body.message, c.reason, `${c.name}: the reason names the problem`)
    t.notMatch(res.body, SECRET, `${c.name}: the secret is not echoed`)
    const after = await counts(app)
    t.equal(after.inbox, before.inbox, `${c.name}: nothing in the inbox`)
    t.equal(after.quarantine, before.quarantine + (c.quarantined ? 1 : 0), `${c.name}: quarantine ${c.quarantined ? 'keeps it' : 'untouched'}`)
    // The server keeps serving good deliveries between bad ones.
    const good = fixture('lead_signup.json')
    good.event.id = Math.floor(Math.random() * 1e9)
    good.data.id = Math.floor(Math.random() * 1e9)
    t.equal((await post(app.server, good)).statusCode, 200, `${c.name}: next good delivery still 200`)
  }

  const invalid = await app.sql`select reason, details, body from quarantine where reason like 'Invalid webhook envelope%' order by id limit 1`
  t.match(invalid[0].details, [{ path: '/event', message: String }], 'quarantine keeps the field errors')
  t.notMatch(app.logs.text(), SECRET, 'no log line holds the secret')
})

t.test('a quarantined body has its secrets scrubbed, and a large one is capped', async (t) => {
  const app = await build(t, { env: { FP_BODY_LIMIT: '200000' } })
  const body = fixture('promoter_accepted.json')
  body.data.campaign.default_webhook_url = `https://hooks.example.com/webhooks/firstpromoter/${SECRET}`
  delete body.event.type
  const res = await post(app.server, body)
  t.equal(res.statusCode, 400)
  const truncatedJson = JSON.stringify(fixture('promoter_accepted.json')).slice(0, -40) + 'x'.repeat(100_000)
  t.equal((await post(app.server, truncatedJson)).statusCode, 400)
  const rows = await app.sql`select body, body_truncated, body_size from quarantine order by id`
  t.equal(rows.length, 2)
  for (const r of rows) {
    t.notMatch(r.body, 'nu9NhM6Hza-kybjZZJivC-FgMtxMrT_o', 'auth_token scrubbed')
    t.notMatch(r.body, 'VKD-uS', 'temp_password scrubbed')
    t.notMatch(r.body, SECRET, 'URL secret scrubbed')
  }
  t.equal(rows[1].body_truncated, true)
  t.equal(rows[1].body.length, 64 * 1024)
  t.ok(rows[1].body_size > 100_000)
})

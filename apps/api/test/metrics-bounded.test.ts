import { randomBytes } from 'node:crypto'
import t from 'tap'
import { build, fixture, post, uniqueId, waitFor } from './helper.js'

const METRICS_TOKEN = 'metrics-token-0123456789abcdef'

type App = Awaited<ReturnType<typeof build>>
const scrape = async (app: App, headers: Record<string, string> = {}) => app.server.inject({ method: 'GET', url: '/metrics', headers })

/** Every series of one metric, as `{labels, value}`. */
function series (text: string, name: string) {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).map((l) => {
    const [labels, value] = [l.slice(name.length + 1, l.lastIndexOf('}')), Number(l.slice(l.lastIndexOf(' ') + 1))]
    return { labels: Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])), value }
  })
}

t.test('event types outside the known v1 and v2 lists are folded into one label value', async (t) => {
  const app = await build(t, { env: { METRICS_REFRESH_MS: '60000' } })
  const statuses = new Set()
  for (let i = 0; i < 300; i++) {
    const body = fixture('lead_signup.json')
    body.event.id = uniqueId()
    body.event.type = `made_up_${randomBytes(6).toString('hex')}`
    statuses.add((await post(app.server, body)).statusCode)
  }
  t.same([...statuses], [200], '300 unknown types stored and answered 200')
  t.equal((await post(app.server, fixture('lead_signup.json'))).statusCode, 200)
  const v2 = fixture('commission.updated.json')
  t.equal((await post(app.server, v2)).statusCode, 200)
  const v2Unknown = { ...fixture('commission.updated.json'), event_id: 'c0ffee00-0000-4000-8000-000000000001', event_type: 'widget.exploded' }
  t.equal((await post(app.server, v2Unknown)).statusCode, 200)

  const deliveries = series((await scrape(app)).body, 'fp_webhook_deliveries_total')
  const types = deliveries.map((s) => s.labels.event_type).sort()
  t.same(types, ['commission.updated', 'lead_signup', 'other'], '302 distinct types, 3 series')
  t.equal(deliveries.find((s) => s.labels.event_type === 'other')?.value, 301, 'every unknown type counted under "other"')
  t.equal((await app.sql`select count(distinct event_type)::int as n from webhook_events`)[0].n, 303, 'the inbox still has each real type')
})

t.test('METRICS_TOKEN: /metrics answers 401 without the bearer token', async (t) => {
  const app = await build(t, { env: { METRICS_TOKEN } })
  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Bearer ${METRICS_TOKEN}x` }, { authorization: METRICS_TOKEN }] as Array<Record<string, string>>) {
    const res = await scrape(app, headers)
    t.equal(res.statusCode, 401, JSON.stringify(Object.keys(headers)))
    t.equal(res.json().code, 'METRICS_UNAUTHORIZED')
    t.notMatch(res.body, /fp_/, 'no metric in the refusal')
  }
  const ok = await scrape(app, { authorization: `Bearer ${METRICS_TOKEN}` })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /fp_webhook_deliveries_total/)
  t.notMatch(app.logs.text(), METRICS_TOKEN, 'the token is never logged')

  const open = await build(t)
  t.equal((await scrape(open)).statusCode, 200, 'without METRICS_TOKEN /metrics stays open')
})

t.test('a scrape reads the row counts from memory: it never waits on the tables they come from', async (t) => {
  const app = await build(t, { env: { METRICS_REFRESH_MS: '200' } })
  await app.sql`insert into webhook_events (source, event_id, event_type, payload, state)
    select 'v1', 'gen-' || g, 'lead_signup', '{}'::jsonb, case when g % 10 = 0 then 'pending' else 'processed' end from generate_series(1, 20000) g`
  const inbox = async () => Object.fromEntries(series((await scrape(app)).body, 'fp_inbox_events').map((s) => [s.labels.state, s.value]))
  await waitFor(async () => (await inbox()).processed === 18_000, 10_000, 'counts refreshed in the background')
  t.same(await inbox(), { pending: 2000, processed: 18_000 })

  // Hold an exclusive lock on every table a count reads: a scrape that counted rows on the request
  // would wait for it.
  const check = app.sql as unknown as { begin: (fn: (tx: any) => Promise<unknown>) => Promise<unknown> }
  await check.begin(async (tx) => {
    await tx`lock table webhook_events, fulfilments, quarantine in access exclusive mode`
    const answer = await Promise.race([
      scrape(app).then((res) => res.statusCode),
      new Promise((resolve) => setTimeout(() => resolve('waited on the lock'), 3000))
    ])
    t.equal(answer, 200, 'answered while the tables are locked')
  })
  await app.sql`update webhook_events set state = 'processed' where state = 'pending'`
  await waitFor(async () => (await inbox()).processed === 20_000, 10_000, 'the next refresh sees the change')
  t.match((await scrape(app)).body, /fp_metrics_refreshed_timestamp_seconds \d/, 'the age of the counts is visible')
})

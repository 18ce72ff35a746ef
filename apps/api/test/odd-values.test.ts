import t from 'tap'
import { createHandlers } from '@fp-webhooks/worker'
import { build, fixture, fulfilmentPayload, post, startWorker, uniqueId, waitFor } from './helper.js'

/** `event.created_at` values nothing relies on: wrong types, and dates JavaScript reads but Postgres refuses. */
const ODD_CREATED_AT: Array<[string, unknown]> = [
  ['a number', 1727963120], ['an object', { at: '2024-10-03' }], ['an array', []], ['false', false],
  ['year 0', '0000-01-01T00:00:00Z'], ['a negative year', '-000001-01-01T00:00:00Z'],
  ['year 275760', '+275760-09-13T00:00:00Z'], ['year 10000', '+010000-01-01T00:00:00Z']
]

t.test('an event time nothing relies on never loses a delivery: stored without it, fulfilments granted', async (t) => {
  const handled: string[] = []
  const handlers = createHandlers().onAny((event) => { handled.push(event.id) })
  const app = await build(t)
  await startWorker(t, app, { handlers })

  const eventIds: string[] = []
  const fulfilmentIds: number[] = []
  for (const [label, value] of ODD_CREATED_AT) {
    const ordinary = fixture('lead_signup.json')
    ordinary.event.id = uniqueId()
    ordinary.data.id = uniqueId()
    ordinary.event.created_at = value
    const res = await post(app.server, ordinary)
    t.equal(res.statusCode, 200, `lead_signup, created_at ${label}: 200 (${res.body.slice(0, 100)})`)
    eventIds.push(String(ordinary.event.id))

    const fulfilment = fulfilmentPayload({ unit: 'credits', amount: 2 })
    fulfilment.event.created_at = value
    const answer = await post(app.server, fulfilment)
    t.ok([200, 202].includes(answer.statusCode), `fulfilment, created_at ${label}: ${answer.statusCode} (${answer.body.slice(0, 100)})`)
    eventIds.push(String(fulfilment.event.id))
    fulfilmentIds.push(fulfilment.data.id)
  }

  const rows = await app.sql`select event_id, event_created_at from webhook_events where event_id = any(${eventIds})`
  t.equal(rows.length, eventIds.length, 'every delivery stored')
  t.ok(rows.every((r: any) => r.event_created_at === null), 'none with a time')
  await waitFor(async () => {
    const [r] = await app.sql`select count(*)::int as n from fulfilments where state = 'granted' and id = any(${fulfilmentIds})`
    return r.n === fulfilmentIds.length
  }, 15_000, 'every fulfilment granted')
  const [ledger] = await app.sql`select count(*)::int as n from ledger_entries where fulfilment_id = any(${fulfilmentIds})`
  t.equal(ledger.n, fulfilmentIds.length, 'one ledger row each')
  await waitFor(() => eventIds.every((id) => handled.includes(id)), 15_000, "the integrator's handlers for every event")
  // The row is marked processed after its handlers return: wait for that, not only the handlers.
  await waitFor(async () => {
    const [r] = await app.sql`select count(*)::int as n from webhook_events where state <> 'processed' and event_id = any(${eventIds})`
    return r.n === 0
  }, 15_000, 'every event processed')
  t.pass('every event processed')
  t.match(app.logs.text(), /event time is not usable; stored without it/, 'the api notes each at warn')
})

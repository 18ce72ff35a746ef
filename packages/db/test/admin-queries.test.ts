import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import t from 'tap'
import { getGlance, listEventTypes, listFulfilmentDeliveries, listNeedsAttention, resetFailedClose, searchEvents } from '../src/admin-queries.js'
import { createDb, type Db } from '../src/client.js'
import * as schema from '../src/schema.js'
import { markAttemptFailed, markFailed, setApiClose } from '../src/fulfilments.js'
import { grantFromLedger } from '../src/ledger.js'
import { createPostgresStore } from '../src/store.js'
import { createTestDatabase } from './helpers/database.js'

const facts = (id: number) => ({ id, unit: 'credits', amount: 5, beneficiary: `promoter:${id + 1}`, promoterId: id + 1, custId: null, promoterEmail: null })
const event = (eventId: string, eventType: string) => ({ source: 'v1' as const, eventId, eventType, eventCreatedAt: null, dedupeKey: null, payload: { event: { id: eventId, type: eventType }, data: { id: 1 } } })
const fulfilmentDelivery = (eventId: string, id: number) => ({ ...event(eventId, 'fulfilment_pending'), payload: { event: { id: eventId }, data: { id } }, fulfilment: facts(id) })

async function setup (t: Parameters<typeof createTestDatabase>[0]) {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 2 })
  t.teardown(handle.close)
  return { db: handle.db, store: createPostgresStore(handle.db), sql: handle.sql }
}

t.test('needs attention: failed grants, transient retries and failed API closes, each with its reason', async (t) => {
  const { db, store } = await setup(t)
  for (const id of [1, 2, 3, 4]) await store.record(fulfilmentDelivery(`ev-${id}`, id))
  await markFailed(db, 1, 'no such customer')
  await markAttemptFailed(db, 2, 'billing API timed out')
  await grantFromLedger(db, 3, true)
  await setApiClose(db, 3, 'failed', 'FirstPromoter answered 401')
  await grantFromLedger(db, 4, false)

  const needs = await listNeedsAttention(db)
  t.same(needs.failed.map((f) => [f.id, f.failureReason]), [[1, 'no such customer']])
  t.same(needs.retrying.map((f) => [f.id, f.lastError]), [[2, 'billing API timed out']])
  t.same(needs.closeFailed.map((f) => [f.id, f.apiCloseError]), [[3, 'FirstPromoter answered 401']])

  t.equal(await resetFailedClose(db, 3), true, 'a failed close is due again')
  t.equal(await resetFailedClose(db, 3), false, 'once')
  t.equal(await resetFailedClose(db, 4), false, 'a close that never failed is left alone')
  t.same((await listNeedsAttention(db)).closeFailed, [])
})

t.test('events: search by type, id, state and time, newest first, a keyset page at a time', async (t) => {
  const { db, store, sql: raw } = await setup(t)
  for (let i = 0; i < 7; i++) await store.record(event(`lead-${i}`, 'lead_signup'))
  for (let i = 0; i < 3; i++) await store.record(event(`promo-${i}`, 'promoter_accepted'))
  // Rows received at the same instant must neither repeat nor vanish between pages.
  await raw`update webhook_events set received_at = '2030-01-01T00:00:00.123456Z' where event_id in ('lead-2', 'lead-3', 'lead-4')`
  await raw`update webhook_events set state = 'failed', last_error = 'handler threw' where event_id = 'promo-1'`

  const all: string[] = []
  let page = await searchEvents(db, { limit: 3 })
  for (;;) {
    all.push(...page.events.map((e) => e.eventId))
    if (!page.next) break
    page = await searchEvents(db, { limit: 3, after: page.next })
  }
  t.equal(all.length, 10, 'every row once')
  t.equal(new Set(all).size, 10)
  t.same(all.slice(0, 3).sort(), ['lead-2', 'lead-3', 'lead-4'], 'newest first')

  const leads = await searchEvents(db, { type: 'lead_signup', limit: 2 })
  t.equal(leads.events.length, 2)
  t.ok(leads.next)
  const rest = await searchEvents(db, { type: 'lead_signup', limit: 10, after: leads.next! })
  t.equal(rest.events.length, 5)
  t.equal(rest.next, null)

  t.same((await searchEvents(db, { state: 'failed' })).events.map((e) => [e.eventId, e.lastError]), [['promo-1', 'handler threw']])
  t.same((await searchEvents(db, { id: 'promo-2' })).events.map((e) => e.eventType), ['promoter_accepted'], 'by FirstPromoter event id')
  const inboxId = (await searchEvents(db, { id: 'lead-0' })).events[0]!.id
  t.same((await searchEvents(db, { id: String(inboxId) })).events.map((e) => e.eventId), ['lead-0'], 'by inbox id')
  t.same((await searchEvents(db, { from: new Date('2029-12-31T00:00:00Z') })).events.map((e) => e.eventId).sort(), ['lead-2', 'lead-3', 'lead-4'])
  t.equal((await searchEvents(db, { to: new Date('2029-12-31T00:00:00Z') })).events.length, 7)
  t.same(await listEventTypes(db), ['lead_signup', 'promoter_accepted'])
})

t.test("a fulfilment's deliveries: by its data.id, and by the event ids it was answered for", async (t) => {
  const { db, store, sql: raw } = await setup(t)
  await store.record(fulfilmentDelivery('f-1', 77))
  await store.record(fulfilmentDelivery('f-2', 77))
  await store.record(fulfilmentDelivery('other', 78))
  await raw`update webhook_events set payload = null where event_id = 'f-2'` // pruned
  const byPayload = await listFulfilmentDeliveries(db, 77)
  t.same(byPayload.map((d) => d.eventId), ['f-1'])
  t.equal(byPayload[0]!.fulfilmentId, 77)
  const withAnswers = await listFulfilmentDeliveries(db, 77, ['f-1', 'f-2'])
  t.same(withAnswers.map((d) => d.eventId), ['f-1', 'f-2'], 'a pruned delivery is still found by its event id')
})

t.test('at a glance: per hour over 48 hours, and the backlog', async (t) => {
  const { db, store, sql: raw } = await setup(t)
  for (const id of [1, 2, 3]) await store.record(fulfilmentDelivery(`ev-${id}`, id))
  await store.record(event('lead-1', 'lead_signup'))
  await grantFromLedger(db, 1, false)
  await markFailed(db, 2, 'no such customer')
  await store.quarantine({ reason: 'invalid envelope', statusCode: 400, details: null, contentType: 'application/json', bodySize: 2, body: '{}', bodyTruncated: false })
  await raw`update webhook_events set received_at = now() - interval '3 hours' where event_id = 'lead-1'`
  await raw`update webhook_events set received_at = now() - interval '3 days' where event_id = 'ev-3'`

  const glance = await getGlance(db)
  t.equal(glance.hours.length, 48)
  const last = glance.hours[47]!
  t.ok(last.hour.getTime() <= Date.now() && Date.now() < last.hour.getTime() + 3_600_000, 'the current hour last')
  t.same(last, { hour: last.hour, deliveries: 2, grants: 1, failures: 2 })
  t.equal(glance.hours[44]!.deliveries, 1, 'three hours ago')
  t.equal(glance.hours.reduce((n, h) => n + h.deliveries, 0), 3, 'older than 48 hours is left out')
  t.same(glance.backlog, { pendingEvents: 4, pendingFulfilments: 1, quarantined: 1 })
})

/**
 * The plans of every statement `run` sends, with whole-table scans disallowed: a "Seq Scan" left in
 * a plan then means that no index can serve it. auto_explain sends each plan as a notice.
 */
async function plans (url: string, run: (db: Db) => Promise<unknown>): Promise<string> {
  const notices: string[] = []
  const client = postgres(url, { max: 1, onnotice: (n) => { notices.push(n.message ?? '') } })
  try {
    await client`load 'auto_explain'`
    await client`set auto_explain.log_min_duration = 0`
    await client`set auto_explain.log_level = notice`
    await client`set enable_seqscan = off`
    notices.length = 0
    await run(drizzle(client, { schema }) as unknown as Db)
    return notices.join('\n---\n')
  } finally {
    await client.end()
  }
}

t.test('every console query is served by its index (no whole-table scan of the inbox or fulfilments)', async (t) => {
  const { url } = await createTestDatabase(t)
  // Each case: the query, and the indexes its plan must use.
  const cases: Record<string, [(d: Db) => Promise<unknown>, string[]]> = {
    'events, no filter': [(d) => searchEvents(d, {}), ['webhook_events_type_received_idx']],
    'events, next page': [(d) => searchEvents(d, { after: { receivedAt: '2030-01-01 00:00:00+00', id: 10 } }), ['webhook_events_type_received_idx']],
    'events by type and time': [(d) => searchEvents(d, { type: 'lead_signup', from: new Date(0), to: new Date() }), ['webhook_events_type_received_idx']],
    'events by time': [(d) => searchEvents(d, { from: new Date(0), to: new Date() }), ['webhook_events_type_received_idx']],
    'events by id': [(d) => searchEvents(d, { id: '123' }), ['webhook_events_source_event_id_uq', 'webhook_events_pkey']],
    'failed events': [(d) => searchEvents(d, { state: 'failed' }), ['webhook_events_failed_idx']],
    'pending events': [(d) => searchEvents(d, { state: 'pending' }), ['webhook_events_pending_idx']],
    'event types': [(d) => listEventTypes(d), ['webhook_events_type_received_idx']],
    'needs attention': [(d) => listNeedsAttention(d), ['fulfilments_state_idx', 'fulfilments_close_failed_idx']],
    deliveries: [(d) => listFulfilmentDeliveries(d, 77, ['a', 'b']), ['webhook_events_fulfilment_idx', 'webhook_events_source_event_id_uq']],
    glance: [(d) => getGlance(d), ['webhook_events_type_received_idx', 'fulfilments_state_idx', 'fulfilments_close_failed_idx', 'webhook_events_failed_idx', 'quarantine_received_idx', 'webhook_events_pending_idx']]
  }
  for (const [name, [run, indexes]] of Object.entries(cases)) {
    const text = await plans(url, run)
    for (const index of indexes) t.match(text, new RegExp(`(using|on) ${index}\\b`), `${name}: ${index}`)
    t.notMatch(text, /Seq Scan on (webhook_events|fulfilments)\b/, `${name}: no whole-table scan`)
  }
})

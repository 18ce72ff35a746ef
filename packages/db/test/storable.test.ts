import t from 'tap'
import { createTestDatabase } from './helpers/database.js'
import { createDb } from '../src/client.js'
import { upsertLead, upsertPromoter, upsertReward } from '../src/projections.js'
import { createPostgresStore } from '../src/store.js'

/** Dates JavaScript holds and Postgres refuses (year 0, negative years, five- and six-digit years). */
const UNSTORABLE_DATES = ['0000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '+010000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00']

t.test('the store keeps a delivery whose time Postgres cannot hold, without the time', async (t) => {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 2 })
  t.teardown(handle.close)
  const store = createPostgresStore(handle.db)
  let id = 100
  for (const text of UNSTORABLE_DATES) {
    const at = new Date(text)
    t.notOk(Number.isNaN(at.getTime()), `${text} is a JavaScript date`)
    const ordinary = await store.record({ source: 'v1', eventId: String(++id), eventType: 'lead_signup', eventCreatedAt: at, dedupeKey: null, payload: { event: { id } } })
    t.ok(ordinary.inboxId, `${text}: an ordinary event is stored`)
    const fulfilment = await store.record({
      source: 'v1',
      eventId: String(++id),
      eventType: 'fulfilment_pending',
      eventCreatedAt: at,
      dedupeKey: null,
      payload: { event: { id } },
      fulfilment: { id, unit: 'credits', amount: 1, beneficiary: 'promoter:1', promoterId: 1, custId: null, promoterEmail: null }
    })
    t.equal(fulfilment.fulfilment?.state, 'pending', `${text}: a fulfilment is stored`)
  }
  const rows = await handle.sql`select count(*)::int as n, count(event_created_at)::int as timed from webhook_events`
  t.same(rows[0], { n: UNSTORABLE_DATES.length * 2, timed: 0 }, 'every row stored, none with a time')
  const edge = await store.record({ source: 'v1', eventId: 'edge', eventType: 'x', eventCreatedAt: new Date('9999-12-31T23:59:59.999Z'), dedupeKey: null, payload: {} })
  const [kept] = await handle.sql`select event_created_at from webhook_events where id = ${edge.inboxId!}`
  t.equal(new Date(kept!.event_created_at).toISOString(), '9999-12-31T23:59:59.999Z', 'the last storable time is kept')
})

t.test('a projection row keeps what fits its columns and reports what it left out', async (t) => {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 2 })
  t.teardown(handle.close)
  const version = { sourceAt: new Date('2024-10-03T13:45:20.103Z'), sourceEventId: 1 }

  const reward = await handle.db.transaction((tx) => upsertReward(tx, {
    id: 1, status: 'approved', amount: 1e20, unit: 'cash', conversionAmount: -1e20, tierLevel: 1e10, promoterId: 7, leadId: 9, fpCreatedAt: new Date(UNSTORABLE_DATES[2]!), ...version
  }))
  t.same(reward.map((u) => u.column).sort(), ['rewards.amount', 'rewards.conversion_amount', 'rewards.fp_created_at', 'rewards.tier_level'])
  t.ok(reward.every((u) => typeof u.reason === 'string' && u.reason.length > 0), 'each says why')
  const [r] = await handle.sql`select amount, conversion_amount, tier_level, fp_created_at, promoter_id::int, status from rewards`
  t.same(r, { amount: null, conversion_amount: null, tier_level: null, fp_created_at: null, promoter_id: 7, status: 'approved' })

  const lead = await upsertLead(handle.db, {
    id: 2, state: 'signup', email: 'lead@example.com', customerSince: new Date(UNSTORABLE_DATES[0]!), cancelledAt: new Date(UNSTORABLE_DATES[1]!), firstPaymentAt: new Date(UNSTORABLE_DATES[3]!), ...version
  })
  t.same(lead.map((u) => u.column).sort(), ['leads.cancelled_at', 'leads.customer_since', 'leads.first_payment_at'])
  t.notMatch(JSON.stringify(lead), 'lead@example.com', 'the report names columns, not values')
  const [l] = await handle.sql`select email, customer_since, cancelled_at, first_payment_at from leads`
  t.same(l, { email: 'lead@example.com', customer_since: null, cancelled_at: null, first_payment_at: null })

  const promoter = await upsertPromoter(handle.db, { id: 3, email: 'p@example.com', parentPromoterId: 2 ** 60, fpCreatedAt: new Date(UNSTORABLE_DATES[4]!), ...version })
  t.same(promoter.map((u) => u.column).sort(), ['promoters.fp_created_at', 'promoters.parent_promoter_id'])
  t.same(await upsertPromoter(handle.db, { id: 4, email: 'q@example.com', ...version }), [], 'nothing to report for a row that fits')
})

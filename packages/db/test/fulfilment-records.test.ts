import t from 'tap'
import { createDb } from '../src/client.js'
import { createPostgresStore } from '../src/store.js'
import { countedDb } from './helpers/counted-db.js'

// `fulfilment_pending` deliveries are group-committed too: concurrent ones' inbox rows and
// fulfilments in one statement, each answered with what it did.

let nextId = 7_000
const facts = (id: number, amount = 3) => ({ id, unit: 'free_months', amount, beneficiary: `promoter:${id}`, promoterId: id, custId: null, promoterEmail: null })
const fulfilment = (id = ++nextId, eventId = `ev-${++nextId}`, amount = 3) =>
  ({ source: 'v1' as const, eventId, eventType: 'fulfilment_pending', eventCreatedAt: new Date(), dedupeKey: null, payload: { event: { id: eventId }, data: { id } }, fulfilment: facts(id, amount) })

async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const { counter, direct, db } = await countedDb(t, 20)
  return { counter, direct, store: createPostgresStore(db, { groupCommit: { maxWaitMs: 20 } }) }
}

const outboxOf = async (sql: ReturnType<typeof createDb>['sql'], inboxIds: number[]) =>
  (await sql`select count(*)::int as n from event_outbox where inbox_id = any(${inboxIds})`)[0]!.n as number

t.test('concurrent new fulfilments share statements; each creates its own, its row left to the grant job', async (t) => {
  const { store, counter, direct } = await setup(t)
  await store.record(fulfilment()) // prepares the statement
  const deliveries = Array.from({ length: 30 }, () => fulfilment())
  let results: Awaited<ReturnType<typeof store.record>>[] = []
  const cost = await counter.cost(async () => { results = await Promise.all(deliveries.map((d) => store.record(d))) })
  t.ok(cost.roundTrips <= 2, `30 fulfilments in ${cost.roundTrips} statement(s)`)
  t.ok(results.every((r, i) => r.fulfilmentCreated === true && r.processedWithGrant === true && r.fulfilment?.id === deliveries[i]!.fulfilment.id && r.fulfilment.state === 'pending'))
  const inboxIds = results.map((r) => r.inboxId!)
  t.equal(new Set(inboxIds).size, 30, 'each with its own inbox row')
  const rows = await direct`select f.id::int as id, f.first_event_id, f.awaiting_answer, e.id::int as inbox_id from fulfilments f join webhook_events e on e.event_id = f.first_event_id where f.id = any(${deliveries.map((d) => d.fulfilment.id)})`
  const byId = new Map(rows.map((r) => [r.id as number, r]))
  t.ok(deliveries.every((d, i) => byId.get(d.fulfilment.id)?.inbox_id === inboxIds[i] && byId.get(d.fulfilment.id)?.awaiting_answer === true), 'the row answered is that delivery\'s, the fulfilment awaiting its answer')
  t.equal(await outboxOf(direct, inboxIds), 0, 'no outbox row: the grant jobs process them')
})

t.test('in one batch: a copy is the duplicate, a second event of one fulfilment finds it known, a stored one too', async (t) => {
  const { store, direct } = await setup(t)
  const stored = fulfilment()
  await store.record(stored)
  const a = fulfilment()
  const refire = fulfilment(a.fulfilment.id) // another event id, the same fulfilment
  const batch = [a, fulfilment(), a, refire, fulfilment(stored.fulfilment.id)]
  const results = await Promise.all(batch.map((d) => store.record(d)))
  t.same(results.map((r) => [r.duplicate, r.fulfilmentCreated === true, r.processedWithGrant === true]), [
    [false, true, true], // creates its fulfilment
    [false, true, true],
    [true, false, false], // the copy: no row, the fulfilment known
    [false, false, false], // its own inbox row, the fulfilment known
    [false, false, false] // a re-fire of one stored before
  ])
  t.same(results.map((r) => r.fulfilment?.state), ['pending', 'pending', 'pending', 'pending', 'pending'], 'every one answered with the state')
  const own = [results[3]!.inboxId!, results[4]!.inboxId!]
  t.equal(await outboxOf(direct, own), 2, 'the re-fires\' rows get outbox rows (their own event jobs)')
  t.equal(await outboxOf(direct, [results[0]!.inboxId!, results[1]!.inboxId!]), 0)
  const [f] = await direct`select first_event_id from fulfilments where id = ${a.fulfilment.id}`
  t.equal(f!.first_event_id, a.eventId, 'created by the first delivery of the batch')
})

t.test('a fulfilment Postgres refuses fails alone; its neighbours are stored', async (t) => {
  const { store, direct } = await setup(t)
  const good = Array.from({ length: 6 }, () => fulfilment())
  const bad = fulfilment(undefined, undefined, 1e20) // no bigint holds the amount
  const settled = await Promise.allSettled([...good.slice(0, 3), bad, ...good.slice(3)].map((d) => store.record(d)))
  t.equal(settled[3]!.status, 'rejected', 'an error: the plugin answers 503')
  t.ok(settled.filter((_, i) => i !== 3).every((s) => s.status === 'fulfilled' && s.value.fulfilmentCreated === true))
  const [n] = await direct`select count(*)::int as n from fulfilments where id = any(${good.map((d) => d.fulfilment.id)})`
  t.equal(n!.n, 6)
  t.same(await direct`select id from fulfilments where id = ${bad.fulfilment.id}`, [], 'nothing of the refused one')
  t.same(await direct`select id from webhook_events where event_id = ${bad.eventId}`, [])
})

import t from 'tap'
import { createTestDatabase } from './helpers/database.js'
import { createDb } from '../src/client.js'
import { upsertPromoter, upsertPromotersMarkingProcessed } from '../src/projections.js'
import { createPostgresStore } from '../src/store.js'

// The worker's batch of carried `fulfilment_pending` rows: their promoters and their "processed"
// mark in one statement, ending as upserting each row in turn would.

const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 10, minute))
const row = (id: number, minute: number, eventId: number, extra: Record<string, unknown> = {}) =>
  ({ id, status: `seen at ${minute}`, email: `p${id}@example.com`, sourceAt: at(minute), sourceEventId: eventId, ...extra })

async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 2 })
  t.teardown(handle.close)
  const store = createPostgresStore(handle.db)
  const inbox = async (n: number) => {
    const ids: number[] = []
    for (let i = 0; i < n; i++) {
      const { inboxId } = await store.record({ source: 'v1', eventId: `ev-${Math.random()}`, eventType: 'fulfilment_pending', eventCreatedAt: null, dedupeKey: null, payload: {} })
      ids.push(inboxId!)
    }
    return ids
  }
  return { ...handle, inbox }
}

t.test('rows of one promoter in a batch: the newest wins, whatever their order; every event is marked processed', async (t) => {
  const { sql, db, inbox } = await setup(t)
  const events = await inbox(5)
  await upsertPromoter(db, row(3, 50, 900)) // already newer than anything in the batch
  const unstorable = await upsertPromotersMarkingProcessed(db, [
    row(1, 20, 102),
    row(1, 30, 101), // the newest of promoter 1 (the later time wins over the greater event id)
    null, // an event without a promoter
    row(1, 10, 103),
    row(3, 40, 104)
  ], events)
  t.same(unstorable, [[], [], [], [], []], 'nothing left out')
  const promoters = await sql`select id::int, status, source_event_id::int from promoters order by id`
  t.same(promoters, [
    { id: 1, status: 'seen at 30', source_event_id: 101 },
    { id: 3, status: 'seen at 50', source_event_id: 900 }
  ], 'promoter 1 holds its newest event; promoter 3 keeps the newer row it had')
  const marked = await sql`select state, attempts, processed_at is not null as at from webhook_events where id = any(${events}) order by id`
  t.same(marked, events.map(() => ({ state: 'processed', attempts: 1, at: true })), 'each event processed once')
})

t.test('a value no column holds is reported for the event it came from; a batch of no promoters only marks', async (t) => {
  const { sql, db, inbox } = await setup(t)
  const events = await inbox(3)
  const unstorable = await upsertPromotersMarkingProcessed(db, [
    row(7, 10, 1),
    row(8, 10, 2, { parentPromoterId: 2 ** 60, fpCreatedAt: new Date('0000-01-01T00:00:00Z') }),
    null
  ], events)
  t.same(unstorable.map((u) => u.map((c) => c.column).sort()), [[], ['promoters.fp_created_at', 'promoters.parent_promoter_id'], []])
  t.same(await sql`select id::int, parent_promoter_id, fp_created_at from promoters where id = 8`, [{ id: 8, parent_promoter_id: null, fp_created_at: null }])

  const [later] = await inbox(1)
  t.same(await upsertPromotersMarkingProcessed(db, [null], [later!]), [[]])
  t.same(await sql`select state from webhook_events where id = ${later!}`, [{ state: 'processed' }], 'marked without a promoter to write')
  t.equal((await sql`select count(*)::int as n from promoters`)[0]!.n, 2, 'no promoter written for it')
})

import { sql as drizzleSql } from 'drizzle-orm'
import t from 'tap'
import { createAnswerNotes, recordAnswers } from '../src/answer-notes.js'
import { createDb } from '../src/client.js'
import { getFulfilment, listAnswers } from '../src/fulfilments.js'
import { grantFromLedger } from '../src/ledger.js'
import { createPostgresStore } from '../src/store.js'
import { createTestDatabase } from './helpers/database.js'
import { countedDb } from './helpers/counted-db.js'

// The answer history's notes are written after their answers, together: one statement for the
// notes of a few milliseconds.

const facts = (id: number) => ({ id, unit: 'credits', amount: 5, beneficiary: `promoter:${id}`, promoterId: id, custId: null, promoterEmail: null })
const delivery = (id: number) => ({ source: 'v1' as const, eventId: `ev-${id}`, eventType: 'fulfilment_pending', eventCreatedAt: null, dedupeKey: null, payload: {}, fulfilment: facts(id) })
const note = (id: number, statusCode = 200) => ({ fulfilmentId: id, eventId: `ev-${id}`, statusCode, reason: null, answeredAt: new Date() })

async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const handle = await countedDb(t)
  const store = createPostgresStore(handle.db)
  for (let id = 1; id <= 50; id++) await store.record(delivery(id))
  for (let id = 1; id <= 50; id++) await grantFromLedger(handle.db, id, true)
  return { ...handle, store }
}

t.test('notes made together are one statement; each 200 clears its fulfilment\'s close', async (t) => {
  const { db, counter, store } = await setup(t)
  const notes = createAnswerNotes(db, { maxWaitMs: 20 })
  await notes.note(note(50)) // prepares the statement on a connection
  const cost = await counter.cost(() => Promise.all(Array.from({ length: 40 }, (_, i) => notes.note(note(i + 1)))))
  t.ok(cost.roundTrips <= 2, `40 notes in ${cost.roundTrips} round trip(s)`)
  for (const id of [1, 20, 40]) {
    t.match(await getFulfilment(db, id), { awaitingAnswer: false, apiClose: 'not_needed' }, `fulfilment ${id}: FirstPromoter closes it itself`)
    t.same((await listAnswers(db, id)).map((a) => a.statusCode), [200])
  }
  t.match(await getFulfilment(db, 41), { awaitingAnswer: true, apiClose: 'pending' }, 'one not noted is still closed through the API')

  // The store's own notes go the same way, and its flush waits for them.
  const written = Promise.all([
    store.noteAnswer({ fulfilmentId: 41, eventId: 'ev-41', statusCode: 202, reason: null }),
    store.noteAnswer({ fulfilmentId: 42, eventId: 'ev-42', statusCode: 200, reason: null })
  ])
  await store.flush()
  t.same(await listAnswers(db, 42).then((a) => a.length), 1, 'written by the time flush resolves')
  await written
  t.same((await listAnswers(db, 41)).map((a) => a.statusCode), [202], 'flushed: the 202 is in the history')
  t.match(await getFulfilment(db, 41), { apiClose: 'pending' }, 'a 202 changes nothing')
  t.match(await getFulfilment(db, 42), { awaitingAnswer: false, apiClose: 'not_needed' })
})

t.test('a note Postgres refuses fails alone; a note of an unknown fulfilment is skipped', async (t) => {
  const { db } = await setup(t)
  const notes = createAnswerNotes(db, { maxWaitMs: 20 })
  const results = await Promise.allSettled([
    notes.note(note(1)),
    notes.note({ ...note(2), statusCode: 70_000 }), // no smallint holds it
    notes.note(note(3)),
    notes.note(note(99_999)) // never recorded
  ])
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
  t.match((results[1] as PromiseRejectedResult).reason, { code: '22003' }, 'out of range')
  t.same((await listAnswers(db, 1)).map((a) => a.statusCode), [200], 'its neighbours are written')
  t.same((await listAnswers(db, 3)).map((a) => a.statusCode), [200])
  t.same(await listAnswers(db, 2), [], 'the refused one is not')
  t.same(await listAnswers(db, 99_999), [])
})

t.test('a full batch goes at once, without waiting', async (t) => {
  const { db } = await setup(t)
  const notes = createAnswerNotes(db, { maxRows: 5, maxWaitMs: 60_000 })
  const started = Date.now()
  await Promise.all([1, 2, 3, 4, 5].map((id) => notes.note(note(id, 202))))
  t.ok(Date.now() - started < 5000, 'not held for the wait')
  t.same((await listAnswers(db, 5)).map((a) => a.statusCode), [202])
  const held = notes.note(note(6, 202))
  await notes.flush()
  await held
  t.same((await listAnswers(db, 6)).map((a) => a.statusCode), [202], 'flush sends a batch that is not full')
})

t.test('a batch of notes looks each fulfilment and answer up by index, whatever the tables hold', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, sql, close } = createDb(url, { max: 1 })
  t.teardown(close)
  // Big enough that a scan of either table would show (and that the planner would hash it).
  await sql`insert into fulfilments (id, unit, amount, beneficiary, first_event_id, awaiting_answer)
    select g, 'credits', 1, 'b', 'ev-' || g, true from generate_series(1, 5000) g`
  await sql`insert into fulfilment_answers (fulfilment_id, event_id, status_code, answered_at)
    select g, 'ev-' || g, 202, now() from generate_series(1, 5000) g`
  await sql`analyze fulfilments`
  await sql`analyze fulfilment_answers`
  const scans = await db.transaction(async (tx) => {
    await recordAnswers(tx, [note(10), note(20, 202), note(99_999)])
    return tx.execute<{ relname: string, seq_scan: number }>(drizzleSql`
      select relname, seq_scan::int from pg_stat_xact_user_tables where relname in ('fulfilments', 'fulfilment_answers') order by relname`)
  })
  t.same([...scans], [{ relname: 'fulfilment_answers', seq_scan: 0 }, { relname: 'fulfilments', seq_scan: 0 }], 'no sequential scan')
  t.same((await listAnswers(db, 10)).map((a) => a.statusCode), [202, 200], 'and the notes are written')
  t.match(await getFulfilment(db, 10), { awaitingAnswer: false })
})

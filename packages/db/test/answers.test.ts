import { sql } from 'drizzle-orm'
import t from 'tap'
import { createDb } from '../src/client.js'
import { getFulfilment, listAnswers } from '../src/fulfilments.js'
import { grantFromLedger } from '../src/ledger.js'
import { isTransientDbError, retryTransient } from '../src/retry.js'
import { createPostgresStore, recordAnswer } from '../src/store.js'
import { createTestDatabase } from './helpers/database.js'

const facts = (id: number) => ({ id, unit: 'credits', amount: 5, beneficiary: `promoter:${id + 1}`, promoterId: id + 1, custId: null, promoterEmail: null })
const delivery = (id: number) => ({ source: 'v1' as const, eventId: `ev-${id}`, eventType: 'fulfilment_pending', eventCreatedAt: null, dedupeKey: null, payload: {}, fulfilment: facts(id) })

t.test('recording a delivery marks the fulfilment awaiting its answer; only a 200 note clears it', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, close } = createDb(url)
  t.teardown(close)
  const store = createPostgresStore(db)

  // The usual 200: the grant commits during the wait (close due, deferred), then the 200 is noted.
  await store.record(delivery(1))
  t.equal((await getFulfilment(db, 1))?.awaitingAnswer, true, 'set by the record statement itself')
  t.same(await grantFromLedger(db, 1, true), { grantedNow: true, closeDue: false }, 'no close now: the answer is not known yet')
  t.equal((await getFulfilment(db, 1))?.apiClose, 'pending', 'but due unless a 200 is noted')
  await store.noteAnswer({ fulfilmentId: 1, eventId: 'ev-1', statusCode: 200, reason: null })
  t.match(await getFulfilment(db, 1), { awaitingAnswer: false, apiClose: 'not_needed' }, 'FirstPromoter closes it itself')

  // A 202 settled in time: the grant closes at once.
  await store.record(delivery(2))
  t.equal((await store.settleAnswer(2))?.state, 'pending')
  t.same(await grantFromLedger(db, 2, true), { grantedNow: true, closeDue: true })
  await store.noteAnswer({ fulfilmentId: 2, eventId: 'ev-2', statusCode: 202, reason: null })
  t.match(await getFulfilment(db, 2), { awaitingAnswer: true, apiClose: 'pending' }, 'a 202 note changes nothing')

  // Without API credentials nothing is ever due.
  await store.record(delivery(3))
  t.same(await grantFromLedger(db, 3, false), { grantedNow: true, closeDue: false })
  t.equal((await getFulfilment(db, 3))?.apiClose, 'not_needed')
})

t.test('an answer note is idempotent: retrying it leaves one history row', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, close } = createDb(url)
  t.teardown(close)
  await createPostgresStore(db).record(delivery(9))
  const note = { fulfilmentId: 9, eventId: 'ev-9', statusCode: 202, reason: null, answeredAt: new Date() }
  await recordAnswer(db, note)
  await recordAnswer(db, note)
  await recordAnswer(db, { ...note, answeredAt: new Date(note.answeredAt.getTime() + 1) })
  t.equal((await listAnswers(db, 9)).length, 2, 'one row per answer')
})

t.test('retryTransient retries connection trouble, not bad statements', async (t) => {
  t.equal(isTransientDbError(Object.assign(new Error('x'), { code: 'CONNECTION_CLOSED' })), true)
  t.equal(isTransientDbError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), true)
  t.equal(isTransientDbError(Object.assign(new Error('x'), { code: '57P01' })), true, 'admin shutdown')
  t.equal(isTransientDbError(Object.assign(new Error('x'), { code: '23503' })), false, 'a foreign key violation')
  t.equal(isTransientDbError(Object.assign(new Error('x'), { code: 'CONNECTION_ENDED' })), false, 'our pool was closed')

  let calls = 0
  await retryTransient(async () => { if (++calls < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }, [1, 1, 1])
  t.equal(calls, 3)
  calls = 0
  await t.rejects(retryTransient(async () => { calls++; throw Object.assign(new Error('fk'), { code: '23503' }) }, [1, 1]), /fk/)
  t.equal(calls, 1, 'not retried')
  calls = 0
  await t.rejects(retryTransient(async () => { calls++; throw new Error('down') }, [1, 1]), /down/)
  t.equal(calls, 3, 'given up after the delays')
})

t.test('settling with the event id notes the answer the state implies, in the same statement', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, close } = createDb(url)
  t.teardown(close)
  const store = createPostgresStore(db)
  const history = async (id: number) =>
    (await listAnswers(db, id)).map((a) => ({ eventId: a.eventId, statusCode: a.statusCode, reason: a.reason }))
  const inTime = (eventId: string) => ({ eventId, noteBy: new Date(Date.now() + 2500) })

  // Granted during the wait: a 200, and FirstPromoter closes it itself (as a 200 note says).
  await store.record(delivery(21))
  await grantFromLedger(db, 21, true)
  t.same(await store.settleAnswer(21, inTime('ev-21')), { id: 21, state: 'granted', failureReason: null, noted: true })
  t.same(await history(21), [{ eventId: 'ev-21', statusCode: 200, reason: null }])
  t.match(await getFulfilment(db, 21), { awaitingAnswer: false, apiClose: 'not_needed', answeredPending: false })

  // Still pending: a 202, marked answered pending; the grant after it closes at once.
  await store.record(delivery(22))
  t.same(await store.settleAnswer(22, inTime('ev-22')), { id: 22, state: 'pending', failureReason: null, noted: true })
  t.same(await history(22), [{ eventId: 'ev-22', statusCode: 202, reason: null }])
  t.match(await getFulfilment(db, 22), { awaitingAnswer: true, answeredPending: true })
  t.same(await grantFromLedger(db, 22, true), { grantedNow: true, closeDue: true })

  // Failed for good: a 422 with its reason.
  await store.record(delivery(23))
  await db.execute(sql`update fulfilments set state = 'failed', failure_reason = 'no such customer' where id = 23`)
  t.same(await store.settleAnswer(23, inTime('ev-23')), { id: 23, state: 'failed', failureReason: 'no such customer', noted: true })
  t.same(await history(23), [{ eventId: 'ev-23', statusCode: 422, reason: 'no such customer' }])

  // Late (past noteBy: the plugin may have answered 202 without it): settled, nothing noted.
  await store.record(delivery(25))
  await grantFromLedger(db, 25, true)
  t.same(await store.settleAnswer(25, { eventId: 'ev-25', noteBy: new Date(Date.now() - 1000) }), { id: 25, state: 'granted', failureReason: null, noted: false })
  t.same(await history(25), [], 'no 200 that FirstPromoter may never have heard')
  t.match(await getFulfilment(db, 25), { awaitingAnswer: true, apiClose: 'pending' }, 'still closed through the API unless a 200 is noted')
  await store.record(delivery(26))
  t.same(await store.settleAnswer(26, { eventId: 'ev-26', noteBy: new Date(Date.now() - 1000) }), { id: 26, state: 'pending', failureReason: null, noted: false })
  t.match(await getFulfilment(db, 26), { answeredPending: true }, 'but marked answered pending all the same')

  // Unknown: nothing noted, nothing answered from it.
  t.equal(await store.settleAnswer(24, inTime('ev-24')), null)
  t.same(await history(24), [])
})

t.test('the delivery that records a fulfilment leaves its row to the grant job; a re-fire gets an outbox row', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, close } = createDb(url)
  t.teardown(close)
  const store = createPostgresStore(db)
  const outboxOf = async (eventId: string) => {
    const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from event_outbox o join webhook_events e on e.id = o.inbox_id where e.event_id = ${eventId}`)
    return rows[0]!.n
  }
  const first = await store.record(delivery(31))
  t.match(first, { duplicate: false, fulfilmentCreated: true, processedWithGrant: true })
  t.equal(await outboxOf('ev-31'), 0, 'no outbox row: the grant job processes it')
  const refire = await store.record({ ...delivery(31), eventId: 'ev-31-refire' })
  t.match(refire, { duplicate: false, fulfilment: { id: 31, state: 'pending' } })
  t.equal(refire.processedWithGrant, undefined)
  t.equal(await outboxOf('ev-31-refire'), 1, 'its own outbox row, for its own event job')
  const again = await store.record(delivery(31))
  t.match(again, { inboxId: null, duplicate: true })
  t.equal(again.processedWithGrant, undefined, 'a duplicate carries nothing')
})

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

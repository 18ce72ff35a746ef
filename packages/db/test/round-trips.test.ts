import t from 'tap'
import { createTestDatabase } from './helpers/database.js'
import { startTcpProxy } from './helpers/tcp-proxy.mjs'
import { createDb } from '../src/client.js'
import { getFulfilment, getFulfilmentForGrant, getFulfilmentStatus } from '../src/fulfilments.js'
import { countLedgerEntries, grantFromLedger } from '../src/ledger.js'
import { createPostgresStore, recordAnswer, settleAnswer } from '../src/store.js'
import { createProtocolCounter } from './helpers/protocol-counter.js'
import { upsertPromoter, upsertPromotersMarkingProcessed } from '../src/projections.js'

let nextId = 1000
const facts = (id: number) => ({ id, unit: 'credits', amount: 3, beneficiary: `promoter:${id}`, promoterId: id, custId: null, promoterEmail: null })
const ordinary = () => ({ source: 'v1' as const, eventId: `ev-${++nextId}`, eventType: 'lead_signup', eventCreatedAt: new Date(), dedupeKey: null, payload: { event: { id: nextId } } })
const promoterRow = (id: number) => ({ id, status: 'active', custId: null, email: null, parentPromoterId: null, defaultRefId: `ref${id}`, earningsBalance: null, currentBalance: null, paidBalance: null, sourceAt: new Date(), sourceEventId: id })
const fulfilment = (id: number) => ({ source: 'v1' as const, eventId: `ev-f-${id}`, eventType: 'fulfilment_pending', eventCreatedAt: null, dedupeKey: null, payload: { data: { id } }, fulfilment: facts(id) })

async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const { url } = await createTestDatabase(t)
  const counter = createProtocolCounter()
  const pg = new URL(url)
  const proxy = await startTcpProxy(
    { host: pg.hostname, port: Number(pg.port || 5432) },
    { onClientData: counter.feed }
  )
  // One connection: every statement after the first runs where the earlier ones were prepared.
  const handle = createDb(proxy.via(url), { max: 1 })
  t.teardown(async () => { await handle.close(); await proxy.close() })
  await handle.db.transaction(async () => {}) // connect (postgres.js reads the array types once)
  return { ...handle, counter, store: createPostgresStore(handle.db) }
}

t.test('each hot statement is one round trip once prepared on the connection, and is parsed once', async (t) => {
  const { db, counter, store } = await setup(t)
  const ids = Array.from({ length: 4 }, () => ++nextId)
  const hot: Record<string, (i: number) => Promise<unknown>> = {
    'ingest insert': () => store.record(ordinary()),
    'fulfilment record': (i) => store.record(fulfilment(ids[i]!)),
    'status read': (i) => getFulfilmentStatus(db, ids[i]!),
    settle: (i) => store.settleAnswer(ids[i]!),
    'settle noting the answer': (i) => store.settleAnswer(ids[i]!, { eventId: `ev-f-${ids[i]!}`, noteBy: new Date(Date.now() + 60_000) }),
    'promoter upsert': (i) => upsertPromoter(db, promoterRow(ids[i]!)),
    'promoters and the processed mark, batched': (i) => upsertPromotersMarkingProcessed(db, [promoterRow(ids[i]! + 1_000_000)], [ids[i]!]),
    'answer history': (i) => store.noteAnswer({ fulfilmentId: ids[i]!, eventId: `ev-f-${ids[i]!}`, statusCode: 202, reason: null }),
    'grant read': (i) => getFulfilmentForGrant(db, ids[i]!),
    'ledger grant': (i) => grantFromLedger(db, ids[i]!, true)
  }
  for (const [name, run] of Object.entries(hot)) {
    const first = await counter.cost(() => run(0))
    t.same(first, { roundTrips: 2, parses: 1 }, `${name}: prepared on first use (Parse/Describe, then Bind/Execute)`)
    for (const i of [1, 2, 3]) {
      t.same(await counter.cost(() => run(i)), { roundTrips: 1, parses: 0 }, `${name}: then one round trip (run ${i + 1})`)
    }
  }
  t.equal((await getFulfilment(db, ids[3]!))?.state, 'granted', 'the statements did their work')

  // The counter can see the difference: a plain Drizzle query is parsed and described every time.
  await getFulfilment(db, ids[0]!)
  t.same(await counter.cost(() => getFulfilment(db, ids[0]!)), { roundTrips: 2, parses: 1 }, 'a plain Drizzle select: two round trips, every time')
})

t.test('the hot statements run inside a caller\'s transaction, on its connection', async (t) => {
  const { db, counter, store } = await setup(t)
  const [warm, id] = [++nextId, ++nextId]
  await store.record(fulfilment(warm))
  await store.record(fulfilment(id))
  await settleAnswer(db, warm) // prepared on the pool's one connection, which the transaction below gets

  const rolledBack = db.transaction(async (tx) => {
    t.same(await counter.cost(() => getFulfilmentForGrant(tx, id)), { roundTrips: 2, parses: 1 }, 'grant read, first use')
    t.same(await counter.cost(() => settleAnswer(tx, id)), { roundTrips: 1, parses: 0 }, 'settle, prepared before: one round trip in the transaction too')
    t.same(await grantFromLedger(tx, id, true), { grantedNow: true, closeDue: true })
    await recordAnswer(tx, { fulfilmentId: id, eventId: `ev-f-${id}`, statusCode: 202, reason: null, answeredAt: new Date() })
    t.match(await getFulfilmentStatus(tx, id), { state: 'granted' }, 'the transaction sees its own grant')
    throw new Error('the caller rolls back')
  })
  await t.rejects(rolledBack, /the caller rolls back/)
  t.match(await getFulfilment(db, id), { state: 'pending', answeredPending: false, apiClose: 'not_needed' }, 'nothing of it committed')
  t.equal(await countLedgerEntries(db, id), 0, 'no ledger row')
  t.same(await getFulfilmentStatus(db, id), { id, state: 'pending', failureReason: null })
})

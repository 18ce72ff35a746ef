import { countOutbox, createDb, createPostgresStore, type OutboxRow } from '@fp-webhooks/db'
import { createTestDatabase } from '@fp-webhooks/testing'
import { pino } from 'pino'
import t from 'tap'
import { startRelay } from '../src/relay.js'
import { sleep, uniqueId, waitFor } from './helper.js'

const delivery = () => {
  const id = uniqueId()
  return { source: 'v1' as const, eventId: `relay-${id}`, eventType: 'lead_signup', eventCreatedAt: null, dedupeKey: null, payload: { event: { id } } }
}

async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 4 })
  t.teardown(() => handle.close())
  return { ...handle, store: createPostgresStore(handle.db) }
}

t.test('woken by the notice of the statement that stored the row, with no poll', async (t) => {
  const { db, store } = await setup(t)
  const queued: OutboxRow[] = []
  const relay = await startRelay({ db, log: pino({ level: 'silent' }), pollMs: 0, enqueue: async (rows) => { queued.push(...rows) } })
  t.teardown(() => relay.stop())
  const { inboxId } = await store.record(delivery())
  await waitFor(() => queued.length === 1, 5000, 'the notice to wake the relay')
  t.same(queued, [{ inboxId, eventType: 'lead_signup' }])
  t.equal(await countOutbox(db), 0, 'the outbox row is gone once queued')

  const id = uniqueId()
  const fulfilment = { id, unit: 'credits', amount: 1, beneficiary: `promoter:${id}`, promoterId: id, custId: null, promoterEmail: null }
  const recorded = await store.record({ ...delivery(), eventType: 'fulfilment_pending', fulfilment })
  t.equal(recorded.processedWithGrant, true, 'the delivery that records a fulfilment is its grant job\'s')
  t.equal(await countOutbox(db), 0, 'so it has no outbox row')
  const refire = await store.record({ ...delivery(), eventType: 'fulfilment_pending', fulfilment })
  await waitFor(() => queued.length === 2, 5000, 'the fulfilment statement\'s notice to wake the relay')
  t.same(queued[1], { inboxId: refire.inboxId, eventType: 'fulfilment_pending' }, 'a re-fire\'s event job goes through the outbox')
  t.same(queued.map((q) => q.inboxId).filter((id) => id === recorded.inboxId), [], 'the first one was not relayed')
})

t.test('a failed enqueue rolls the claim back: the rows are queued on the next attempt, none lost', async (t) => {
  const { db, store } = await setup(t)
  let redisUp = false
  const queued: number[] = []
  const relay = await startRelay({
    db,
    log: pino({ level: 'silent' }),
    pollMs: 100,
    batch: 7,
    enqueue: async (rows) => {
      if (!redisUp) throw new Error('Redis is not connected')
      queued.push(...rows.map((r) => r.inboxId))
    }
  })
  t.teardown(() => relay.stop())
  const ids = (await Promise.all(Array.from({ length: 30 }, () => store.record(delivery())))).map((r) => r.inboxId!)
  await sleep(300) // a few failed attempts
  t.equal(await countOutbox(db), 30, 'every row kept while Redis is away')
  redisUp = true
  await waitFor(async () => await countOutbox(db) === 0, 5000, 'the relay to catch up')
  t.same([...queued].sort((a, b) => a - b), [...ids].sort((a, b) => a - b), 'each row queued once, in batches of at most 7')
})

t.test('a test delivery gets no outbox row', async (t) => {
  const { db, store } = await setup(t)
  await store.record({ ...delivery(), source: 'v2', test: true })
  t.equal(await countOutbox(db), 0)
})

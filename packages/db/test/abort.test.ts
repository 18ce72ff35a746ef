import postgres from 'postgres'
import t from 'tap'
import { createTestDatabase } from './helpers/database.js'
import { createDb } from '../src/client.js'
import { createPostgresStore } from '../src/store.js'

const ordinary = (eventId: string) => ({ source: 'v1' as const, eventId, eventType: 'lead_signup', eventCreatedAt: null, dedupeKey: null, payload: {} })
const fulfilment = (id: number) => ({
  source: 'v1' as const,
  eventId: `ev-${id}`,
  eventType: 'fulfilment_pending',
  eventCreatedAt: null,
  dedupeKey: null,
  payload: {},
  fulfilment: { id, unit: 'credits', amount: 1, beneficiary: 'promoter:1', promoterId: 1, custId: null, promoterEmail: null }
})
const abortAfter = (ms: number) => AbortSignal.timeout(ms)

t.test('a record given up while it waits for a connection is never sent', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, sql, close } = createDb(url, { max: 1 })
  t.teardown(close)
  const store = createPostgresStore(db)
  const busy = sql`select pg_sleep(0.5)`.execute() // holds the pool's only connection
  await t.rejects(store.record(ordinary('queued'), { signal: abortAfter(50) }), 'the ordinary event is abandoned')
  await t.rejects(store.record(fulfilment(7), { signal: abortAfter(50) }), 'so is the fulfilment')
  await busy
  t.same(await sql`select event_id from webhook_events`, [], 'no inbox row once the connection is free')
  t.same(await sql`select id from fulfilments`, [], 'no fulfilment')
  t.ok((await store.record(ordinary('later'))).inboxId, 'the store works on')
})

t.test('a record given up after it was sent is cancelled on the server', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, sql, close } = createDb(url, { max: 2 })
  t.teardown(close)
  const blocker = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => blocker.end())
  const store = createPostgresStore(db)
  await store.record(ordinary('prepared')) // the statement is prepared: the next one is sent at once

  const conn = await blocker.reserve()
  await conn`begin`
  await conn`lock table webhook_events in exclusive mode` // the insert waits on this lock
  await t.rejects(store.record(ordinary('sent'), { signal: abortAfter(300) }), { code: '57014' }, 'Postgres cancelled the waiting insert')
  await conn`rollback`
  conn.release()
  t.same(await sql`select event_id from webhook_events order by id`, [{ event_id: 'prepared' }], 'the cancelled insert left no row')
})

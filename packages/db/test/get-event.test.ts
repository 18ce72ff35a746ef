import t from 'tap'
import { eq } from 'drizzle-orm'
import { createTestDatabase } from './helpers/database.js'
import { createDb } from '../src/client.js'
import { webhookEvents } from '../src/schema.js'
import { getEvent, markEventProcessed } from '../src/webhook-events.js'

t.test('getEvent, one prepared statement, reads a row exactly as Drizzle\'s select does', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, close } = createDb(url)
  t.teardown(close)
  const [full] = await db.insert(webhookEvents).values({
    source: 'v2',
    eventId: 'ev-1',
    eventType: 'fulfilment_pending',
    dedupeKey: 'k-1',
    eventCreatedAt: new Date('2024-05-06T07:08:09.123Z'),
    payload: { data: { id: 12, nested: [1, 'two', null] } },
    lastError: 'x',
    prunedAt: new Date('2024-06-01T00:00:00Z')
  }).returning({ id: webhookEvents.id })
  const [bare] = await db.insert(webhookEvents).values({ source: 'v1', eventId: 'ev-2', eventType: 'lead_signup', payload: null }).returning({ id: webhookEvents.id })
  await markEventProcessed(db, bare!.id)
  for (const { id } of [full!, bare!]) {
    const drizzle = (await db.select().from(webhookEvents).where(eq(webhookEvents.id, id)))[0]
    const ours = await getEvent(db, id)
    t.strictSame(ours, drizzle, `row ${id}`)
    t.ok(ours!.receivedAt instanceof Date, 'times are Dates')
    t.equal(typeof ours!.id, 'number')
  }
  t.equal((await getEvent(db, bare!.id))?.state, 'processed')
  t.equal((await getEvent(db, bare!.id))?.attempts, 1)
  t.equal(await getEvent(db, 999_999), undefined)
})

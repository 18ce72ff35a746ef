import { and, asc, desc, eq, getTableColumns, gte, lt, sql } from 'drizzle-orm'
import { unlessAborted } from './abortable.js'
import type { DbOrTx, Sql } from './client.js'
import { webhookEvents } from './schema.js'
import { storableRow, storableTimestamp } from './storable.js'

export type WebhookEvent = typeof webhookEvents.$inferSelect
export type NewWebhookEvent = typeof webhookEvents.$inferInsert

/**
 * Inserts an inbox row unless one with the same (source, event id) or dedupe key exists.
 * @returns the new row's id, or null for a duplicate
 */
export async function insertEvent (db: DbOrTx, event: NewWebhookEvent): Promise<number | null> {
  const rows = await db.insert(webhookEvents).values(storableRow(webhookEvents, event, [])).onConflictDoNothing().returning({ id: webhookEvents.id })
  return rows[0]?.id ?? null
}

export async function getEvent (db: DbOrTx, id: number): Promise<WebhookEvent | undefined> {
  const rows = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id))
  return rows[0]
}

export async function markEventProcessed (db: DbOrTx, id: number): Promise<void> {
  await db.update(webhookEvents)
    .set({ state: 'processed', processedAt: new Date(), lastError: null, attempts: sql`${webhookEvents.attempts} + 1` })
    .where(eq(webhookEvents.id, id))
}

export async function markEventAttemptFailed (db: DbOrTx, id: number, error: string, final: boolean): Promise<void> {
  await db.update(webhookEvents)
    .set({ lastError: error, attempts: sql`${webhookEvents.attempts} + 1`, ...(final ? { state: 'failed' as const } : {}) })
    .where(eq(webhookEvents.id, id))
}

/** Puts a failed event back to `pending`, so the next enqueue (or sweep) processes it again. */
export async function resetEvent (db: DbOrTx, id: number): Promise<void> {
  await db.update(webhookEvents).set({ state: 'pending', lastError: null }).where(eq(webhookEvents.id, id))
}

/**
 * Inbox rows still pending after `olderThanMs`: stored while the queue was unreachable, or whose
 * job was lost. The outbox sweeper enqueues them again.
 */
export async function listStalePendingEvents (db: DbOrTx, olderThanMs: number, limit: number) {
  return db.select({ id: webhookEvents.id, eventType: webhookEvents.eventType })
    .from(webhookEvents)
    .where(and(eq(webhookEvents.state, 'pending'), lt(webhookEvents.receivedAt, new Date(Date.now() - olderThanMs))))
    .orderBy(asc(webhookEvents.receivedAt))
    .limit(limit)
}

export interface EventFilter {
  type?: string
  state?: 'pending' | 'processed' | 'failed'
  from?: Date
  to?: Date
  /** Rows with an id below this (the previous page's last id). */
  beforeId?: number
  limit?: number
}

/** Newest first, without payloads (fetch one event for that). */
export async function listEvents (db: DbOrTx, filter: EventFilter = {}) {
  const conditions = [
    filter.type ? eq(webhookEvents.eventType, filter.type) : undefined,
    filter.state ? eq(webhookEvents.state, filter.state) : undefined,
    filter.from ? gte(webhookEvents.receivedAt, filter.from) : undefined,
    filter.to ? lt(webhookEvents.receivedAt, filter.to) : undefined,
    filter.beforeId ? lt(webhookEvents.id, filter.beforeId) : undefined
  ].filter((c) => c !== undefined)
  const { payload: _payload, ...columns } = getTableColumns(webhookEvents)
  return db.select(columns).from(webhookEvents)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(webhookEvents.id))
    .limit(Math.min(filter.limit ?? 50, 500))
}

/** Counts per processing state, for metrics. */
export async function countEventsByState (db: DbOrTx) {
  return db.select({ state: webhookEvents.state, n: sql<number>`count(*)::int` }).from(webhookEvents).groupBy(webhookEvents.state)
}

/**
 * `insertEvent` as one prepared statement (one round trip, planned once per connection): the
 * ingest hot path. The payload arrives as JSON text, serialised once by the caller. (Drizzle
 * leaves postgres.js without a Date serialiser, hence the ISO string.) A time Postgres cannot
 * store is left out (`storableTimestamp`): the event itself must never be refused for it.
 * @returns the new row's id, or null for a duplicate
 */
export async function insertEventPrepared (
  sql: Sql,
  event: { source: 'v1' | 'v2', eventId: string, eventType: string, dedupeKey: string | null, eventCreatedAt: Date | null, payloadJson: string },
  signal?: AbortSignal
): Promise<number | null> {
  const rows = await unlessAborted(sql<Array<{ id: string }>>`
    insert into webhook_events (source, event_id, event_type, dedupe_key, event_created_at, payload)
    values (${event.source}, ${event.eventId}, ${event.eventType}, ${event.dedupeKey}, ${storableTimestamp(event.eventCreatedAt)?.toISOString() ?? null}::timestamptz, ${event.payloadJson}::jsonb)
    on conflict do nothing
    returning id::text as id`, signal)
  return rows[0] ? Number(rows[0].id) : null
}

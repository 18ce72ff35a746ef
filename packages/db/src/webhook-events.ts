import { and, asc, desc, eq, getTableColumns, gte, lt, ne, sql, type SQL } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
import { assignments, prepared, selectedColumns } from './prepared.js'
import { webhookEvents, type EventState } from './schema.js'

/*
 * Inbox rows are written by the store (`store.ts`), the only writer of new deliveries.
 */

export type WebhookEvent = typeof webhookEvents.$inferSelect

const eventColumns = selectedColumns(webhookEvents)
// Once per event, on the worker's hot path: one round trip (see `prepared.ts`).
const readEvent = prepared<{ id: number }, Record<string, unknown>>((value) => sql`
  select ${eventColumns.list} from ${webhookEvents} where ${webhookEvents.id} = ${value('id')}`)

export async function getEvent (db: DbOrTx, id: number): Promise<WebhookEvent | undefined> {
  const [row] = await readEvent(db, { id })
  return row ? eventColumns.toRow(row) : undefined
}

// Once per event (or per batch of them), on the worker's hot path: one round trip (see `prepared.ts`).
/** The "processed" mark of the inbox rows whose ids `ids` (a `bigint[]` expression) holds. */
export const processedMark = (ids: SQL) => sql`
  update ${webhookEvents} set ${assignments(webhookEvents, { state: sql`'processed'`, processedAt: sql`now()`, lastError: sql`null`, attempts: sql`${webhookEvents.attempts} + 1` })}
  where ${webhookEvents.id} = any(${ids})`

const markProcessed = prepared<{ ids: number[] }>((value) => processedMark(sql`${value('ids')}::bigint[]`))

export async function markEventProcessed (db: DbOrTx, id: number): Promise<void> {
  await markProcessed(db, { ids: [id] })
}

/** `markEventProcessed` for several rows, in one statement. */
export async function markEventsProcessed (db: DbOrTx, ids: readonly number[]): Promise<void> {
  await markProcessed(db, { ids: [...ids] })
}

const readEvents = prepared<{ ids: number[] }, Record<string, unknown>>((value) => sql`
  select ${eventColumns.list} from ${webhookEvents} where ${webhookEvents.id} = any(${value('ids')}::bigint[])
  order by ${webhookEvents.id}`)

/** Several inbox rows in one round trip, by id order (the worker processes grant jobs' rows together). */
export async function getEvents (db: DbOrTx, ids: readonly number[]): Promise<WebhookEvent[]> {
  const rows = await readEvents(db, { ids: [...ids] })
  return rows.map((row) => eventColumns.toRow(row))
}

export async function markEventAttemptFailed (db: DbOrTx, id: number, error: string, final: boolean): Promise<void> {
  await db.update(webhookEvents)
    .set({ lastError: error, attempts: sql`${webhookEvents.attempts} + 1`, ...(final ? { state: 'failed' as const } : {}) })
    .where(eq(webhookEvents.id, id))
}

/**
 * Puts a failed event back to `pending`, so the next enqueue (or sweep) processes it again. A test
 * delivery stays a test: it is never processed.
 */
export async function resetEvent (db: DbOrTx, id: number): Promise<void> {
  await db.update(webhookEvents).set({ state: 'pending', lastError: null }).where(and(eq(webhookEvents.id, id), ne(webhookEvents.state, 'test')))
}

/**
 * Inbox rows still pending after `olderThanMs`: stored while the queue was unreachable, or whose
 * job was lost. The outbox sweeper enqueues them again. Test deliveries are never pending.
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
  state?: EventState
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

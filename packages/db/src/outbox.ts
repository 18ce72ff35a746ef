import { sql } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
import { name, prepared } from './prepared.js'
import { eventOutbox } from './schema.js'

/**
 * The channel the statements that store a delivery notify (in their transaction, so a listener
 * hears it once the row is visible). The relay listens on it; its poll covers a missed notice.
 */
export const OUTBOX_CHANNEL = 'fp_event_outbox'

/** `select pg_notify(…)` as a statement's CTE: Postgres folds the notices of one transaction into one. */
export const notifyOutbox = sql`select pg_notify(${sql.raw(`'${OUTBOX_CHANNEL}'`)}, '')`

export interface OutboxRow { inboxId: number, eventType: string }

/**
 * Takes up to `limit` outbox rows, oldest first, skipping those another relay holds: deleted when
 * the caller's transaction commits (after it queued their jobs), back for the next claim if it
 * rolls back or its connection dies.
 * @param tx the caller's transaction
 */
const claim = prepared<{ limit: number }, { inboxId: string, eventType: string }>((value) => sql`
  delete from ${eventOutbox}
  where ${eventOutbox.inboxId} in (
    select ${name(eventOutbox.inboxId)} from ${eventOutbox}
    order by ${name(eventOutbox.inboxId)}
    limit ${value('limit')}
    for update skip locked
  )
  returning ${eventOutbox.inboxId} as "inboxId", ${eventOutbox.eventType} as "eventType"`)

export async function claimOutbox (tx: DbOrTx, limit: number): Promise<OutboxRow[]> {
  const rows = await claim(tx, { limit })
  return rows.map((r) => ({ inboxId: Number(r.inboxId), eventType: r.eventType })).sort((a, b) => a.inboxId - b.inboxId)
}

/** Rows waiting for the relay, for metrics and tests. */
export async function countOutbox (db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(eventOutbox)
  return row?.n ?? 0
}

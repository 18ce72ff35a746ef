import { getTableColumns, sql, type SQL } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { DbOrTx } from './client.js'
import { name, runPrepared } from './prepared.js'
import { leads, payouts, promoters, rewards } from './schema.js'
import { storableRow, type UnstorableValue } from './storable.js'

export type PromoterRow = typeof promoters.$inferInsert
export type LeadRow = typeof leads.$inferInsert
export type RewardRow = typeof rewards.$inferInsert
export type PayoutRow = typeof payouts.$inferInsert

/*
 * Every projection row holds the state of the newest event that described it. An upsert wins only
 * when its (FirstPromoter time, event id) is greater than the row's, so events applied in any order,
 * or twice, end in the same state.
 */
function newer (table: PgTable & { sourceAt: PgColumn, sourceEventId: PgColumn }): SQL {
  return sql`(excluded.${name(table.sourceAt)}, excluded.${name(table.sourceEventId)}) > (${table.sourceAt}, ${table.sourceEventId})`
}

/** `set` for an upsert: every column given in `row` (but the key) takes the incoming value. */
function takeAll (table: PgTable, row: Record<string, unknown>): Record<string, SQL> {
  const columns = getTableColumns(table)
  const out: Record<string, SQL> = {}
  for (const key of Object.keys(row)) {
    const column = columns[key]
    if (key === 'id' || !column) continue
    out[key] = sql`excluded.${name(column)}`
  }
  out.updatedAt = sql`now()`
  return out
}

/*
 * Each upsert writes what its columns can hold (`storableRow`) and returns what it left out, so
 * that a value nothing relies on (a date in year 0, an amount of 1e20) never fails the projection.
 */

export async function upsertPromoter (db: DbOrTx, input: PromoterRow): Promise<UnstorableValue[]> {
  const unstorable: UnstorableValue[] = []
  const { campaignId: _c, acceptedAt: _a, acceptedEventId: _e, ...versioned } =
    storableRow(promoters, input, unstorable)
  await runPrepared(db, db.insert(promoters).values(versioned)
    .onConflictDoUpdate({ target: promoters.id, set: takeAll(promoters, versioned), setWhere: newer(promoters) }))
  return unstorable
}

/**
 * A `promoter_accepted` event: the campaign is versioned apart from the rest of the promoter,
 * because no other event carries it.
 */
export async function recordPromoterAcceptance (
  db: DbOrTx,
  promoterId: number,
  campaignId: number | null,
  at: Date,
  eventId: number
): Promise<void> {
  await db.update(promoters)
    .set({ campaignId, acceptedAt: at, acceptedEventId: eventId })
    // A Date in a raw `sql` template goes as an ISO string: drizzle's postgres-js driver turns off
    // postgres.js's Date serialiser, so a bare Date fails to bind (ERR_INVALID_ARG_TYPE).
    .where(sql`${promoters.id} = ${promoterId} and (${promoters.acceptedAt} is null or (${at.toISOString()}::timestamptz, ${eventId}::bigint) > (${promoters.acceptedAt}, ${promoters.acceptedEventId}))`)
}

export async function upsertLead (db: DbOrTx, input: LeadRow): Promise<UnstorableValue[]> {
  const unstorable: UnstorableValue[] = []
  const row = storableRow(leads, input, unstorable)
  const { firstPaymentAt, ...versioned } = row
  await runPrepared(db, db.insert(leads).values({ ...versioned, firstPaymentAt })
    .onConflictDoUpdate({ target: leads.id, set: takeAll(leads, versioned), setWhere: newer(leads) }))
  if (firstPaymentAt) {
    // The earliest first payment wins whatever the order; `least` ignores a null. ISO string: see above.
    await db.update(leads).set({ firstPaymentAt: sql`least(${leads.firstPaymentAt}, ${firstPaymentAt.toISOString()}::timestamptz)` })
      .where(sql`${leads.id} = ${row.id}`)
  }
  return unstorable
}

export async function upsertReward (db: DbOrTx, input: RewardRow): Promise<UnstorableValue[]> {
  const unstorable: UnstorableValue[] = []
  const row = storableRow(rewards, input, unstorable)
  await runPrepared(db, db.insert(rewards).values(row)
    .onConflictDoUpdate({ target: rewards.id, set: takeAll(rewards, row), setWhere: newer(rewards) }))
  return unstorable
}

export async function upsertPayout (db: DbOrTx, input: PayoutRow): Promise<UnstorableValue[]> {
  const unstorable: UnstorableValue[] = []
  const row = storableRow(payouts, input, unstorable)
  await db.insert(payouts).values(row)
    .onConflictDoUpdate({ target: payouts.id, set: takeAll(payouts, row), setWhere: newer(payouts) })
  return unstorable
}

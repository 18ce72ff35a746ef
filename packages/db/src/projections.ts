import { getTableColumns, sql, type SQL } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { DbOrTx } from './client.js'
import { name, runPrepared, runPreparedSql } from './prepared.js'
import { leads, payouts, promoters, rewards } from './schema.js'
import { processedMark } from './webhook-events.js'
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

/** What a promoter upsert writes: the storable values, less the campaign (versioned apart, below). */
function versionedPromoter (input: PromoterRow, unstorable: UnstorableValue[]) {
  const { campaignId: _c, acceptedAt: _a, acceptedEventId: _e, ...versioned } =
    storableRow(promoters, input, unstorable)
  return versioned
}

/** The upsert of promoter rows with distinct ids (one statement cannot update a row twice). */
function promoterUpsert (db: DbOrTx, rows: Array<ReturnType<typeof versionedPromoter>>) {
  return db.insert(promoters).values(rows)
    .onConflictDoUpdate({ target: promoters.id, set: takeAll(promoters, rows[0]!), setWhere: newer(promoters) })
}

export async function upsertPromoter (db: DbOrTx, input: PromoterRow): Promise<UnstorableValue[]> {
  const unstorable: UnstorableValue[] = []
  await runPrepared(db, promoterUpsert(db, [versionedPromoter(input, unstorable)]))
  return unstorable
}

const newestFirst = (a: PromoterRow, b: PromoterRow) =>
  b.sourceAt.getTime() - a.sourceAt.getTime() || b.sourceEventId - a.sourceEventId

/**
 * Several events' promoter rows and those events' "processed" mark in one autocommitted statement:
 * one round trip and no transaction of its own for a batch of events that project only a promoter
 * (the worker's batch of `fulfilment_pending` rows carried by grant jobs). Of rows with the same
 * id only the newest is written: what upserting each in turn would leave, since the newest wins.
 * @param inputs one per event, null for an event with no promoter to write
 * @returns what each input left out (`upsertPromoter`'s result), in the inputs' order
 */
export async function upsertPromotersMarkingProcessed (
  db: DbOrTx,
  inputs: ReadonlyArray<PromoterRow | null>,
  eventIds: readonly number[]
): Promise<UnstorableValue[][]> {
  const unstorable = inputs.map(() => [] as UnstorableValue[])
  const byId = new Map<number, { input: PromoterRow, row: ReturnType<typeof versionedPromoter> }>()
  inputs.forEach((input, i) => {
    if (input === null) return
    const row = versionedPromoter(input, unstorable[i]!)
    const kept = byId.get(row.id)
    if (!kept || newestFirst(input, kept.input) < 0) byId.set(row.id, { input, row })
  })
  const newest = [...byId.values()].map(({ row }) => row)
  const mark = processedMark(sql`${`{${eventIds.join(',')}}`}::bigint[]`)
  // Drizzle puts an embedded query in parentheses, as the CTE wants it.
  await runPreparedSql(db, newest.length === 0 ? mark : sql`with upserted as ${promoterUpsert(db, newest)} ${mark}`)
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

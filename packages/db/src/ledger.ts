import { and, eq, sql } from 'drizzle-orm'
import { apiCloseAfterGrant, closeDueNow } from './api-close.js'
import type { DbOrTx } from './client.js'
import { assignments, name, prepared } from './prepared.js'
import { ALL_UNITS, fulfilments, grantPauses, ledgerEntries, type ApiCloseState } from './schema.js'

export type LedgerEntry = typeof ledgerEntries.$inferSelect
export type NewLedgerEntry = typeof ledgerEntries.$inferInsert

/**
 * Writes the grant's ledger row. The unique fulfilment id makes a second row impossible.
 * @returns the row, or null when this fulfilment was already granted
 */
export async function insertLedgerEntry (db: DbOrTx, entry: NewLedgerEntry): Promise<LedgerEntry | null> {
  const rows = await db.insert(ledgerEntries).values(entry)
    .onConflictDoNothing({ target: ledgerEntries.fulfilmentId })
    .returning()
  return rows[0] ?? null
}

/** The balance of one beneficiary in one unit: the sum of its ledger rows (0 when none). */
export async function getBalance (db: DbOrTx, beneficiary: string, unit: string): Promise<number> {
  const rows = await db.select({ total: sql<string | null>`sum(${ledgerEntries.amount})` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.beneficiary, beneficiary), eq(ledgerEntries.unit, unit)))
  return Number(rows[0]?.total ?? 0)
}

export async function countLedgerEntries (db: DbOrTx, fulfilmentId: number): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)::int` }).from(ledgerEntries).where(eq(ledgerEntries.fulfilmentId, fulfilmentId))
  return rows[0]?.n ?? 0
}

export interface LedgerGrantResult {
  /** True when this call wrote the ledger row and marked the fulfilment granted. */
  grantedNow: boolean
  /** FirstPromoter was told "pending" and API credentials exist: close it through the API now. */
  closeDue: boolean
}

/** The fulfilment's columns its ledger row copies: ledger column ← fulfilment column. */
const copied = [
  [ledgerEntries.fulfilmentId, fulfilments.id],
  [ledgerEntries.beneficiary, fulfilments.beneficiary],
  [ledgerEntries.promoterId, fulfilments.promoterId],
  [ledgerEntries.custId, fulfilments.custId],
  [ledgerEntries.unit, fulfilments.unit],
  [ledgerEntries.amount, fulfilments.amount]
] as const

const grant = prepared<{ id: number, closeViaApi: boolean, units: string[] | null }, { apiClose: ApiCloseState, answeredPending: boolean, unit: string, amount: string }>((value) => sql`
  with f as (
    select ${sql.join(copied.map(([, from]) => from), sql`, `)} from ${fulfilments}
    where ${fulfilments.id} = ${value('id')} and ${fulfilments.state} in ('pending', 'granting')
      -- The grant job's shortcut (units given) skips the read that checks the pause switch: check it here.
      and (${value('units')}::text[] is null or (${fulfilments.unit} = any(${value('units')}::text[])
        and not exists (select 1 from ${grantPauses} where ${grantPauses.scope} in (${ALL_UNITS}, ${fulfilments.unit}))))
  ), entry as (
    insert into ${ledgerEntries} (${sql.join(copied.map(([to]) => name(to)), sql`, `)})
    select ${sql.join(copied.map(([, from]) => name(from)), sql`, `)} from f
    on conflict (${name(ledgerEntries.fulfilmentId)}) do nothing
    returning ${name(ledgerEntries.fulfilmentId)}
  )
  update ${fulfilments} set ${assignments(fulfilments, {
    state: sql`'granted'`,
    grantedAt: sql`now()`,
    updatedAt: sql`now()`,
    lastError: sql`null`,
    failureReason: sql`null`,
    attempts: sql`${fulfilments.attempts} + 1`,
    apiClose: apiCloseAfterGrant(value('closeViaApi'))
  })}
  from entry where ${fulfilments.id} = entry.${name(ledgerEntries.fulfilmentId)}
  returning ${fulfilments.apiClose} as "apiClose", ${fulfilments.answeredPending} as "answeredPending",
    ${fulfilments.unit} as "unit", ${fulfilments.amount} as "amount"`)

/**
 * The built-in grant in one statement: read the fulfilment if still pending, write its ledger row,
 * mark it granted. One statement is one transaction, so it is all-or-nothing; a concurrent grant
 * of the same fulfilment waits on the unique ledger row and then finds it taken. The fulfilment row
 * is locked only by the final update, which also decides the API close (see `api-close.ts`).
 * Runs as a prepared statement: one round trip.
 * @param db the pool, or the caller's transaction
 */
export async function grantFromLedger (
  db: DbOrTx,
  fulfilmentId: number,
  closeViaApi: boolean
): Promise<LedgerGrantResult> {
  const [row] = await grant(db, { id: fulfilmentId, closeViaApi, units: null })
  return { grantedNow: row !== undefined, closeDue: row !== undefined && closeDueNow(row) }
}

/**
 * `grantFromLedger`, for a fulfilment recorded in one of `units` only: a grant job may try it before
 * reading the row, and a unit with a grant function of its own must then be left alone.
 * @returns the granted unit and amount too; null when nothing was granted now
 */
export async function grantFromLedgerIfUnit (
  db: DbOrTx,
  fulfilmentId: number,
  closeViaApi: boolean,
  units: readonly string[]
): Promise<(LedgerGrantResult & { unit: string, amount: number }) | null> {
  const [row] = await grant(db, { id: fulfilmentId, closeViaApi, units: [...units] })
  return row ? { grantedNow: true, closeDue: closeDueNow(row), unit: row.unit, amount: Number(row.amount) } : null
}

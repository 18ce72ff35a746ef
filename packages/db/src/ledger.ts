import { and, eq, sql } from 'drizzle-orm'
import type { DbOrTx, Sql } from './client.js'
import { ledgerEntries } from './schema.js'

export type LedgerEntry = typeof ledgerEntries.$inferSelect
export type NewLedgerEntry = typeof ledgerEntries.$inferInsert

/**
 * Writes the grant's ledger row. The unique fulfilment id makes a second row impossible.
 * @returns the row, or null when this fulfilment was already granted
 */
export async function insertLedgerEntry (db: DbOrTx, entry: NewLedgerEntry): Promise<LedgerEntry | null> {
  const rows = await db.insert(ledgerEntries).values(entry).onConflictDoNothing({ target: ledgerEntries.fulfilmentId }).returning()
  return rows[0] ?? null
}

/** The balance of one beneficiary in one unit: the sum of its ledger rows (0 when none). */
export async function getBalance (db: DbOrTx, beneficiary: string, unit: string): Promise<number> {
  const rows = await db.select({ total: sql<string | null>`sum(${ledgerEntries.amount})` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.beneficiary, beneficiary), eq(ledgerEntries.unit, unit)))
  return Number(rows[0]?.total ?? 0)
}

/** Every unit's balance of one beneficiary. */
export async function getBalances (db: DbOrTx, beneficiary: string): Promise<Record<string, number>> {
  const rows = await db.select({ unit: ledgerEntries.unit, total: sql<string>`sum(${ledgerEntries.amount})` })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.beneficiary, beneficiary))
    .groupBy(ledgerEntries.unit)
  return Object.fromEntries(rows.map((r) => [r.unit, Number(r.total)]))
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

/**
 * The built-in grant in one statement: read the fulfilment if still pending, write its ledger row,
 * mark it granted. One statement is one transaction, so it is all-or-nothing; a concurrent grant
 * of the same fulfilment waits on the unique ledger row and then finds it taken. The fulfilment row
 * is locked only by the final update, which also reads whether FirstPromoter was told "pending"
 * (see `settleAnswer`) or has not been told it is done (`awaiting_answer`, see `markGranted`).
 * Runs as a prepared statement: one round trip.
 * @param sql the postgres.js client (`createDb(url).sql`)
 */
export async function grantFromLedger (sql: Sql, fulfilmentId: number, closeViaApi: boolean): Promise<LedgerGrantResult> {
  const rows = await sql<Array<{ api_close: string, answered_pending: boolean }>>`
    with f as (
      select id, beneficiary, promoter_id, cust_id, unit, amount from fulfilments
      where id = ${fulfilmentId} and state in ('pending', 'granting')
    ), entry as (
      insert into ledger_entries (fulfilment_id, beneficiary, promoter_id, cust_id, unit, amount)
      select id, beneficiary, promoter_id, cust_id, unit, amount from f
      on conflict (fulfilment_id) do nothing
      returning fulfilment_id
    )
    update fulfilments set
      state = 'granted', granted_at = now(), updated_at = now(), last_error = null, failure_reason = null,
      attempts = fulfilments.attempts + 1,
      api_close = case when ${closeViaApi}::boolean and (fulfilments.answered_pending or fulfilments.awaiting_answer) then 'pending' else fulfilments.api_close end
    from entry where fulfilments.id = entry.fulfilment_id
    returning fulfilments.api_close, fulfilments.answered_pending`
  const row = rows[0]
  return { grantedNow: row !== undefined, closeDue: row?.api_close === 'pending' && row.answered_pending }
}

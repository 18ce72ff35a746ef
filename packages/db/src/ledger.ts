import { and, eq, sql } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
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

import { desc, eq, isNull, sql } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
import { quarantine } from './schema.js'

export type QuarantinedDelivery = typeof quarantine.$inferSelect

export async function insertQuarantine (db: DbOrTx, entry: typeof quarantine.$inferInsert): Promise<number> {
  const rows = await db.insert(quarantine).values(entry).returning({ id: quarantine.id })
  return rows[0]!.id
}

export async function listQuarantine (db: DbOrTx, limit = 100): Promise<QuarantinedDelivery[]> {
  return db.select().from(quarantine).orderBy(desc(quarantine.id)).limit(limit)
}

export async function getQuarantined (db: DbOrTx, id: number): Promise<QuarantinedDelivery | undefined> {
  const rows = await db.select().from(quarantine).where(eq(quarantine.id, id))
  return rows[0]
}

/** Notes that the delivery was sent through the webhook route again and accepted. */
export async function markResubmitted (db: DbOrTx, id: number): Promise<void> {
  await db.update(quarantine).set({ resubmittedAt: new Date() }).where(eq(quarantine.id, id))
}

export async function countQuarantine (db: DbOrTx): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)::int` }).from(quarantine).where(isNull(quarantine.resubmittedAt))
  return rows[0]?.n ?? 0
}

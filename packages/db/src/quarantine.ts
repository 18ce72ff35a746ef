import { desc } from 'drizzle-orm'
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

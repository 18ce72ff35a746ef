import { and, inArray, isNull, lt, sql } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
import { fulfilments, leads, promoters, quarantine, webhookEvents } from './schema.js'

export interface PruneReport {
  /** Inbox rows whose payload was dropped (the row, its id and type stay for dedupe and audit). */
  payloads: number
  quarantine: number
  /** Fulfilments, leads and promoters whose personal fields were cleared. */
  personal: number
}

/**
 * Drops what is old and personal; keeps what proves grants. Inbox payloads of finished events (and tests),
 * quarantined bodies, and emails/profiles in fulfilments and projections last touched before
 * `before` are removed. The ledger and every id are kept. In a caller's transaction, a savepoint.
 */
export async function prune (db: DbOrTx, before: Date): Promise<PruneReport> {
  return db.transaction(async (tx) => {
    const payloads = await tx.update(webhookEvents)
      .set({ payload: null, prunedAt: new Date() })
      .where(and(lt(webhookEvents.receivedAt, before), inArray(webhookEvents.state, ['processed', 'failed', 'test']), isNull(webhookEvents.prunedAt)))
      .returning({ id: webhookEvents.id })
    const q = await tx.delete(quarantine).where(lt(quarantine.receivedAt, before)).returning({ id: quarantine.id })
    const f = await tx.update(fulfilments).set({ promoterEmail: null })
      .where(and(lt(fulfilments.updatedAt, before), sql`${fulfilments.promoterEmail} is not null`, inArray(fulfilments.state, ['granted', 'failed'])))
      .returning({ id: fulfilments.id })
    const l = await tx.update(leads).set({ email: null })
      .where(and(lt(leads.updatedAt, before), sql`${leads.email} is not null`)).returning({ id: leads.id })
    const p = await tx.update(promoters).set({ email: null, profile: null })
      .where(and(lt(promoters.updatedAt, before), sql`(${promoters.email} is not null or ${promoters.profile} is not null)`)).returning({ id: promoters.id })
    return { payloads: payloads.length, quarantine: q.length, personal: f.length + l.length + p.length }
  })
}

import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { FulfilmentStatus } from 'fastify-firstpromoter'
import type { DbOrTx } from './client.js'
import { getFulfilmentStatus } from './fulfilments.js'
import { fulfilments } from './schema.js'
import { storableRow } from './storable.js'

/*
 * v2 non-monetary commissions as fulfilments (docs/firstpromoter-v2.md, "Non-monetary
 * commissions"). They share the fulfilments table, the grant job and the ledger with v1 payouts,
 * under `kind = 'v2_commission'` and a negative `id` (minus the commission id), so that a
 * commission id never meets a payout id.
 */

/** The fulfilment id (the key of jobs, ledger rows and answers) of a v2 commission. */
export const v2FulfilmentId = (commissionId: number): number => -commissionId

/** The commission id of a v2 fulfilment id, or null when the id is a v1 payout's. */
export const commissionIdOf = (fulfilmentId: number): number | null => (fulfilmentId < 0 ? -fulfilmentId : null)

/** What the grant needs of an approved non-monetary commission, from the delivery or the API. */
export interface V2FulfilmentFacts {
  commissionId: number
  unit: string
  amount: number
  promoterId: number | null
  promoterEmail: string | null
  referral: { id: number | null, uid: string | null, email: string | null } | null
  /** The party the payload names; null when it does not say. */
  party: 'promoter' | 'referral' | null
}

/**
 * The ledger's beneficiary: the referred customer by its `uid` (the integrator's user id, as
 * `cust:` is in v1) when the commission says it rewards the referral, else the promoter. With no
 * promoter id (no API to read it), the commission itself, so unknown promoters never share a balance.
 */
export function v2Beneficiary (facts: V2FulfilmentFacts): string {
  if (facts.party === 'referral' && facts.referral?.uid) return `cust:${facts.referral.uid}`
  return facts.promoterId !== null ? `promoter:${facts.promoterId}` : `v2-commission:${facts.commissionId}`
}

/**
 * Records an approved commission's fulfilment unless it is known; its facts never change once
 * recorded. It is marked answered "pending": v2 has no status code that closes a fulfilment, so
 * once granted it is always closed through `POST /commissions/mark_fulfilled`.
 * @returns its status, and whether this call inserted it
 */
export async function recordV2Fulfilment (
  db: DbOrTx,
  facts: V2FulfilmentFacts,
  extra: { source: 'webhook' | 'reconcile', firstEventId?: string | null }
): Promise<FulfilmentStatus & { inserted: boolean }> {
  const id = v2FulfilmentId(facts.commissionId)
  const inserted = await db.insert(fulfilments).values(storableRow(fulfilments, {
    id,
    kind: 'v2_commission' as const,
    source: extra.source,
    unit: facts.unit,
    amount: Math.trunc(facts.amount),
    beneficiary: v2Beneficiary(facts),
    promoterId: facts.promoterId,
    custId: facts.party === 'referral' ? facts.referral?.uid ?? null : null,
    promoterEmail: facts.promoterEmail,
    referralId: facts.referral?.id ?? null,
    referralUid: facts.referral?.uid ?? null,
    referralEmail: facts.referral?.email ?? null,
    party: facts.party,
    firstEventId: extra.firstEventId ?? null,
    answeredPending: true
  }, [])).onConflictDoNothing({ target: fulfilments.id })
    .returning({ id: fulfilments.id, state: fulfilments.state, failureReason: fulfilments.failureReason })
  if (inserted[0]) return { ...inserted[0], inserted: true }
  const existing = await getFulfilmentStatus(db, id)
  /* c8 ignore next -- the row exists: the insert above conflicted with it */
  if (!existing) throw new Error(`fulfilment ${id} vanished`)
  return { ...existing, inserted: false }
}

/** Granted v2 fulfilments whose `mark_fulfilled` is due, oldest first: the next batch to close. */
export async function listV2ClosesDue (db: DbOrTx, limit: number): Promise<Array<{ id: number }>> {
  return db.select({ id: fulfilments.id }).from(fulfilments)
    .where(and(eq(fulfilments.kind, 'v2_commission'), eq(fulfilments.apiClose, 'pending'), eq(fulfilments.state, 'granted')))
    .orderBy(asc(fulfilments.updatedAt))
    .limit(limit)
}

/** Marks v2 closes done (FirstPromoter accepted `mark_fulfilled` for them). */
export async function markV2Closed (db: DbOrTx, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return
  await db.update(fulfilments)
    .set({ apiClose: 'done', apiClosedAt: new Date(), apiCloseError: null, updatedAt: new Date() })
    .where(and(inArray(fulfilments.id, [...ids]), eq(fulfilments.kind, 'v2_commission')))
}

/** Records a failed v2 close; `final` ends it `failed` (a human must look), else it stays due. */
export async function markV2CloseFailed (
  db: DbOrTx,
  ids: readonly number[],
  error: string,
  final: boolean
): Promise<void> {
  if (ids.length === 0) return
  await db.update(fulfilments)
    .set({ apiClose: final ? 'failed' : 'pending', apiCloseError: error, updatedAt: sql`now()` })
    .where(and(inArray(fulfilments.id, [...ids]), eq(fulfilments.kind, 'v2_commission')))
}

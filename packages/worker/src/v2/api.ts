import type { V2Client, V2Commission } from '@fp-webhooks/firstpromoter-api'
import type { V2FulfilmentFacts } from '@fp-webhooks/db'
import { isNonMonetaryUnit } from 'fastify-firstpromoter'

/** The v2 API calls the non-monetary flow makes (a `createV2Client`; tests may pass their own). */
export type V2CommissionApi = Pick<V2Client, 'getCommission' | 'listCommissions' | 'listAllCommissions' | 'markCommissionsFulfilled' | 'waitForBatch'>

export interface V2CloseOptions {
  /** Ids per `mark_fulfilled` call. More than 5 make FirstPromoter answer 202 and a batch to follow. Default 100. */
  batchSize?: number
  /** How often a 202 batch is polled (`GET /batch_processes/{id}`). Default 2000 ms. */
  pollIntervalMs?: number
}

export const DEFAULT_V2_CLOSE_BATCH_SIZE = 100

const idOf = (value: unknown): number | null => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value) && Number(value) > 0) return Number(value)
  return null
}
const textOf = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null)

/**
 * An API commission's grant facts, when it is an approved non-monetary one with a usable amount.
 * E-mails are not taken from the API: only a delivery's, which went through the receiver's
 * personal-data rule, are stored.
 */
export function factsFromApiCommission (c: V2Commission): V2FulfilmentFacts | null {
  const commissionId = idOf(c.id)
  const unit = typeof c.unit === 'string' ? c.unit.trim().toLowerCase() : ''
  const amount = typeof c.amount === 'number' && Number.isFinite(c.amount) && c.amount >= 0 ? c.amount : null
  if (commissionId === null || !isNonMonetaryUnit(unit) || amount === null) return null
  const campaign = c.promoter_campaign ?? null
  const promoterId = idOf(campaign?.promoter?.id) ?? idOf(campaign?.promoter_id)
  const referral = c.referral ? { id: idOf(c.referral.id), uid: textOf(c.referral.uid), email: null } : null
  return { commissionId, unit, amount, promoterId, promoterEmail: null, referral, party: referral === null ? 'promoter' : null }
}

// FirstPromoter's documented v2 examples (docs/firstpromoter-v2.md), shipped as JSON beside this module.
import commissionApproved from './v2/commission.approved.json' with { type: 'json' }
import commissionCreated from './v2/commission.created.json' with { type: 'json' }
import commissionUpdated from './v2/commission.updated.json' with { type: 'json' }
import payoutUpdated from './v2/payout.updated.json' with { type: 'json' }
import promoterCreated from './v2/promoter.created.json' with { type: 'json' }
import promoterUpdated from './v2/promoter.updated.json' with { type: 'json' }
import referralCreated from './v2/referral.created.json' with { type: 'json' }
import referralUpdated from './v2/referral.updated.json' with { type: 'json' }

/** A v2 delivery body: the envelope FirstPromoter's webhook subscriptions POST. */
export interface V2Payload {
  event_id: string
  event_type: string
  entity_id?: number | string | null
  changes?: Record<string, unknown>
  data: Record<string, unknown>
  timestamp?: string
  [key: string]: unknown
}

const EXAMPLES: Record<string, V2Payload> = {
  'commission.created': commissionCreated,
  'commission.updated': commissionUpdated,
  'commission.approved': commissionApproved,
  'promoter.created': promoterCreated,
  'promoter.updated': promoterUpdated,
  'referral.created': referralCreated,
  'referral.updated': referralUpdated,
  'payout.updated': payoutUpdated
}

/** The v2 event types the simulator has an example for. */
export const V2_EVENT_TYPES = Object.keys(EXAMPLES)

/** v2 event types are `entity.action`; v1's have no dot. */
export const isV2Type = (type: string): boolean => type.includes('.')

/**
 * A fresh, mutable copy of the documented v2 example for `type`.
 * @throws TypeError for a type the simulator has no example for
 */
export function exampleV2Payload (type: string): V2Payload {
  const example = EXAMPLES[type]
  if (example === undefined) throw new TypeError(`unknown v2 event type "${type}" (one of: ${V2_EVENT_TYPES.join(', ')})`)
  return structuredClone(example)
}

/** The first v2 retry waits about 2 minutes… */
export const V2_FIRST_RETRY_MS = 120_000
/** The current docs' default `max_retries` (an older page and the API say 3: `--max-retries 3`). */
export const V2_DEFAULT_MAX_RETRIES = 10

/**
 * The wait before v2's retry number `retry` (1-based), doubling from `firstMs` up to 256 times it:
 * with the default 2 min, 2, 4, 8, 16, 32 min, about 1, 2, 4 h, then 8.5 h (the current deliveries page).
 */
export function v2RetryDelay (retry: number, firstMs = V2_FIRST_RETRY_MS): number {
  return firstMs * 2 ** Math.min(Math.max(retry - 1, 0), 8)
}

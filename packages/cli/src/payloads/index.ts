// Types only: the plugin (and Fastify) stay unloaded when the simulator runs.
import type { V1EventType } from 'fastify-firstpromoter'
// FirstPromoter's documented examples (docs/firstpromoter-v1.md), shipped as JSON beside this module:
// a published package carries its own data (the tests' copy is in @fp-webhooks/testing).
import fulfilmentPending from './fulfilment_pending.json' with { type: 'json' }
import leadBecomesReferral from './lead_becomes_referral.json' with { type: 'json' }
import leadCancelled from './lead_cancelled.json' with { type: 'json' }
import leadSignup from './lead_signup.json' with { type: 'json' }
import newCustomer from './new_customer.json' with { type: 'json' }
import promoterAccepted from './promoter_accepted.json' with { type: 'json' }
import promoterSignedUp from './promoter_signed_up.json' with { type: 'json' }
import rewardCreated from './reward_created.json' with { type: 'json' }
import type { V1Payload } from './types.js'

export type { V1Payload } from './types.js'

// Keyed by every V1EventType, so a type added to the plugin fails to compile here until it has an
// example. `promoter_signs_up` is FirstPromoter's own spelling of the same event: same data.
const EXAMPLES: Record<V1EventType, V1Payload> = {
  lead_signup: leadSignup,
  lead_becomes_referral: leadBecomesReferral,
  new_customer: newCustomer,
  lead_cancelled: leadCancelled,
  promoter_signed_up: promoterSignedUp,
  promoter_signs_up: promoterSignedUp,
  promoter_accepted: promoterAccepted,
  reward_created: rewardCreated,
  fulfilment_pending: fulfilmentPending
}

/** The v1 event types FirstPromoter sends (the plugin's `V1_EVENT_TYPES`, in the same order). */
export const EVENT_TYPES = Object.keys(EXAMPLES) as readonly V1EventType[]

export function isEventType (type: string): type is V1EventType {
  return (EVENT_TYPES as readonly string[]).includes(type)
}

/**
 * A fresh, mutable copy of FirstPromoter's documented example for `type`.
 * @throws TypeError for a type FirstPromoter does not send
 */
export function examplePayload (type: string): V1Payload {
  if (!isEventType(type)) throw new TypeError(`unknown event type "${type}" (one of: ${EVENT_TYPES.join(', ')})`)
  const copy = structuredClone(EXAMPLES[type])
  copy.event.type = type
  return copy
}

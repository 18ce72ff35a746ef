import { V1_EVENT_TYPES, V2_EVENT_TYPES } from 'fastify-firstpromoter'

const KNOWN = new Set<string>([...V1_EVENT_TYPES, ...V2_EVENT_TYPES])

/** The label value for any event type FirstPromoter does not document: the series stay bounded. */
export const OTHER_EVENT_TYPE = 'other'
/** The label value when no type was read (the delivery was refused before its envelope). */
export const UNKNOWN_EVENT_TYPE = 'unknown'

/**
 * The `event_type` label for a delivery: a documented v1 or v2 type as is, anything else folded
 * into `other`. Unknown types are accepted and stored, so a sender (or a typo in FirstPromoter's
 * next type) could otherwise add a permanent series per distinct value.
 */
export function eventTypeLabel (type: string | null | undefined): string {
  if (!type) return UNKNOWN_EVENT_TYPE
  return KNOWN.has(type) ? type : OTHER_EVENT_TYPE
}

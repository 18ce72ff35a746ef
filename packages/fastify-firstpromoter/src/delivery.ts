import type { Delivery, FulfilmentFacts } from './seams.js'
import type { FulfilmentPendingData, V1Envelope } from './schemas.js'
import type { V2WebhookEnvelope } from './schemas-v2.js'

const FIRST_PAYMENT = new Set(['lead_becomes_referral', 'new_customer'])

/**
 * A time sent as a string, when it is one a store can keep: a date JavaScript can read, in the
 * years 1 to 9999 UTC (ISO 8601's four-digit years). JavaScript also reads years 0, negative ones
 * and up to +275760, which Postgres (and most databases) refuse; those count as no time at all.
 * @returns the time, or null for anything else (a number, an object, "yesterday", year 10000)
 */
export function usableTime (value: unknown): Date | null {
  if (typeof value !== 'string') return null
  const d = new Date(value)
  const year = d.getUTCFullYear()
  return Number.isNaN(year) || year < 1 || year > 9999 ? null : d
}

function idOf (value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return Number(value)
  return null
}

/**
 * The facts of a fulfilment. The rewarded party is the promoter: by the integrator's own user id
 * (`cust_id`) when FirstPromoter has one, else by FirstPromoter's promoter id.
 */
export function fulfilmentFacts (data: FulfilmentPendingData, keepEmail: boolean): FulfilmentFacts {
  const promoter = data.promoter
  const promoterId = idOf(promoter.id)
  const custId = typeof promoter.cust_id === 'string' && promoter.cust_id.trim() !== '' ? promoter.cust_id.trim() : null
  return {
    id: idOf(data.id)!,
    unit: data.unit,
    amount: Number(data.amount),
    beneficiary: custId !== null ? `cust:${custId}` : `promoter:${promoterId}`,
    promoterId,
    custId,
    promoterEmail: keepEmail && typeof promoter.email === 'string' && promoter.email !== '' ? promoter.email : null
  }
}

/** A v1 delivery, from an envelope that passed validation and redaction. */
export function v1Delivery (envelope: V1Envelope, fulfilment?: FulfilmentFacts): Delivery {
  const type = envelope.event.type
  const leadId = FIRST_PAYMENT.has(type) ? idOf((envelope.data as { id?: unknown }).id) : null
  return {
    source: 'v1',
    eventId: String(envelope.event.id),
    eventType: type,
    eventCreatedAt: usableTime(envelope.event.created_at),
    // Both "first payment" events of a lead collapse into one inbox row (docs/firstpromoter-v1.md, section 2).
    dedupeKey: leadId !== null ? `v1:first_payment:lead:${leadId}` : null,
    payload: envelope,
    ...(fulfilment ? { fulfilment } : {})
  }
}

/** A v2 delivery, from an envelope that passed validation and redaction. */
export function v2Delivery (envelope: V2WebhookEnvelope): Delivery {
  return {
    source: 'v2',
    eventId: envelope.event_id,
    eventType: envelope.event_type,
    eventCreatedAt: usableTime(envelope.timestamp),
    dedupeKey: null,
    payload: envelope
  }
}

/**
 * A v2 test delivery (`"data": {"test": true}`), whatever else its body has: it is never
 * processed, so nothing in it is relied on.
 * @param eventId the body's `event_id`, else `X-Event-Id`, else one derived from the body
 * @param eventType the body's `event_type`, else `test`
 */
export function v2TestDelivery (doc: Record<string, unknown>, eventId: string, eventType: string): Delivery {
  return {
    source: 'v2',
    eventId,
    eventType,
    eventCreatedAt: usableTime(doc.timestamp),
    dedupeKey: null,
    payload: doc,
    test: true
  }
}

/**
 * The event time a delivery was sent with and is stored without (not a usable time, see
 * `usableTime`), for a warn line: which field, and what kind of value it was.
 * @returns null when the time was usable or not sent at all
 */
export function droppedEventTime (delivery: Delivery): { field: 'event.created_at' | 'timestamp', sent: string } | null {
  if (delivery.eventCreatedAt !== null) return null
  const sent = delivery.source === 'v1'
    ? (delivery.payload as V1Envelope).event.created_at
    : (delivery.payload as V2WebhookEnvelope).timestamp
  if (sent === undefined || sent === null) return null
  return { field: delivery.source === 'v1' ? 'event.created_at' : 'timestamp', sent: Array.isArray(sent) ? 'array' : typeof sent }
}

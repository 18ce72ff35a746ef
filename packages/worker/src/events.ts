import {
  V1_EVENT_TYPES,
  isKnownV2EventType,
  type V1EventDataByType,
  type V1EventType,
  type V2Changes,
  type V2EventDataByType,
  type V2EventType
} from 'fastify-firstpromoter'

/** Every event type a typed handler can be registered for: v1 names (aliases included) and v2 types. */
export type FirstPromoterEventType = V1EventType | V2EventType

interface EventBase {
  /** FirstPromoter's `event.id` (v1) or `event_id` (v2). */
  id: string
  /** When FirstPromoter says the event happened; null when it sent no usable time. */
  createdAt: Date | null
  /** The inbox row the event is stored in (`webhook_events.id`). */
  inboxId: number
}

/** A v1 event of a known type; `data` is typed by its documented shape (values arrive as sent). */
export type V1FirstPromoterEvent<T extends V1EventType = V1EventType> = {
  [K in T]: EventBase & { source: 'v1', known: true, type: K, data: V1EventDataByType[K] }
}[T]

/** A v2 event of a known type; `changes` maps a field to `[old, new]` when FirstPromoter sent them. */
export type V2FirstPromoterEvent<T extends V2EventType = V2EventType> = {
  [K in T]: EventBase & { source: 'v2', known: true, type: K, changes: V2Changes | null, data: V2EventDataByType[K] }
}[T]

/** One stored event, discriminated on `type`: `if (event.type === 'reward_created')` narrows `data`. */
export type FirstPromoterEvent<T extends FirstPromoterEventType = FirstPromoterEventType> =
  | V1FirstPromoterEvent<Extract<T, V1EventType>>
  | V2FirstPromoterEvent<Extract<T, V2EventType>>

/** An event of a type this version does not know (FirstPromoter added one): only `onAny` sees it. */
export interface UnknownFirstPromoterEvent extends EventBase {
  source: 'v1' | 'v2'
  known: false
  type: string
  changes?: unknown
  data: unknown
}

/** What an `onAny` handler receives: check `known` first, then `type` narrows as usual. */
export type AnyFirstPromoterEvent = FirstPromoterEvent | UnknownFirstPromoterEvent

/**
 * FirstPromoter sends some facts under two names; a handler registered under either runs once for
 * whichever arrives (the receiver keeps only the first of a lead's two "first payment" events).
 */
export const EVENT_ALIASES = {
  new_customer: 'lead_becomes_referral',
  lead_becomes_referral: 'new_customer',
  promoter_signs_up: 'promoter_signed_up',
  promoter_signed_up: 'promoter_signs_up'
} as const satisfies Partial<Record<V1EventType, V1EventType>>

/** The other name of the same fact, if it has one. */
export type AliasOf<T extends FirstPromoterEventType> =
  T extends keyof typeof EVENT_ALIASES ? (typeof EVENT_ALIASES)[T] : never

const KNOWN_V1: ReadonlySet<string> = new Set(V1_EVENT_TYPES)

/** Whether `type` is one `on()` accepts. */
export function isFirstPromoterEventType (type: unknown): type is FirstPromoterEventType {
  return typeof type === 'string' && (KNOWN_V1.has(type) || isKnownV2EventType(type))
}

/** The stored event row's fields the event object is built from. */
export interface StoredEvent {
  id: number
  source: string
  eventId: string
  eventType: string
  eventCreatedAt: Date | null
  payload: unknown
}

/** The handler's view of a stored event: its envelope facts and `data` as stored. */
export function toFirstPromoterEvent (row: StoredEvent): AnyFirstPromoterEvent {
  const payload = (typeof row.payload === 'object' && row.payload !== null ? row.payload : {}) as Record<string, unknown>
  const source = row.source === 'v2' ? 'v2' : 'v1'
  const known = source === 'v2' ? isKnownV2EventType(row.eventType) : KNOWN_V1.has(row.eventType)
  const base = {
    id: row.eventId,
    type: row.eventType,
    createdAt: row.eventCreatedAt,
    inboxId: row.id,
    data: payload.data
  }
  if (source === 'v1') return { ...base, source, known } as AnyFirstPromoterEvent
  const changes = typeof payload.changes === 'object' && payload.changes !== null && !Array.isArray(payload.changes) ? payload.changes : null
  return { ...base, source, known, changes } as AnyFirstPromoterEvent
}

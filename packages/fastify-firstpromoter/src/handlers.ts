import type { V1EventDataByType, V1EventType } from './schemas.js'

export interface HandlerContext {
  /** FirstPromoter's `event.id` (v1) or `event_id` (v2). */
  eventId: string
  eventType: string
  eventCreatedAt: Date | null
  /** The inbox row the event was stored in. */
  inboxId: number
}

export type EventHandler<T extends V1EventType> = (data: V1EventDataByType[T], context: HandlerContext) => unknown
/** A handler for every event, known types and unknown ones alike; it sees `data` as stored. */
export type AnyEventHandler = (data: unknown, context: HandlerContext) => unknown

/*
 * FirstPromoter sends some facts under two names; a handler registered under either runs once
 * for whichever arrives (the receiver keeps only the first of a lead's two "first payment" events).
 */
const SAME_FACT: Record<string, string> = {
  new_customer: 'lead_becomes_referral',
  lead_becomes_referral: 'new_customer',
  promoter_signs_up: 'promoter_signed_up',
  promoter_signed_up: 'promoter_signs_up'
}

/**
 * Typed event handlers. They never run on the request path: the plugin only registers them
 * (`app.firstpromoter.on(…)`), and the worker runs them after the event is stored and its
 * projections are updated. Share one registry module between your api and your worker.
 * A handler that throws makes the event job retry, so handlers must be idempotent.
 */
export interface RegisterHandler<R> {
  <T extends V1EventType>(type: T, handler: EventHandler<T>): R
  (type: '*', handler: AnyEventHandler): R
}

export function createHandlerRegistry (): HandlerRegistry {
  const byType = new Map<string, AnyEventHandler[]>()
  const on = ((type: string, handler: AnyEventHandler) => {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function')
    const list = byType.get(type) ?? []
    list.push(handler)
    byType.set(type, list)
    return registry
  }) as RegisterHandler<HandlerRegistry>
  const registry = {
    on,
    /** The handlers that run for an event of `type`, in registration order, catch-all ones last. */
    handlersFor (type: string): AnyEventHandler[] {
      const alias = SAME_FACT[type]
      return [
        ...(byType.get(type) ?? []),
        ...(alias ? byType.get(alias) ?? [] : []),
        ...(byType.get('*') ?? [])
      ]
    },
    get size () {
      let n = 0
      for (const list of byType.values()) n += list.length
      return n
    }
  }
  return registry
}

export interface HandlerRegistry {
  on: RegisterHandler<HandlerRegistry>
  handlersFor: (type: string) => AnyEventHandler[]
  readonly size: number
}

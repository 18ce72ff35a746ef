import {
  EVENT_ALIASES,
  isFirstPromoterEventType,
  type AliasOf,
  type AnyFirstPromoterEvent,
  type FirstPromoterEvent,
  type FirstPromoterEventType
} from './events.js'

/** A handler of `T` (and of its alias: the same fact under its other name). */
export type EventHandler<T extends FirstPromoterEventType> = (event: FirstPromoterEvent<T | AliasOf<T>>) => unknown
/** A handler of every event, types this version does not know included. */
export type AnyEventHandler = (event: AnyFirstPromoterEvent) => unknown

const HANDLERS = Symbol.for('@fp-webhooks/worker.handlers')

/**
 * Typed event handlers, octokit-style. They run in the worker, after the event is stored and its
 * projections are updated, never on the request path. A handler that throws makes the event job
 * retry, so handlers must tolerate running again.
 */
export interface Handlers {
  /** Runs `handler` for events of `type` (or any of `types`); an unknown type is a compile error. */
  on: <T extends FirstPromoterEventType>(type: T | readonly T[], handler: EventHandler<T>) => Handlers
  /** Runs `handler` for every event, after the typed ones. */
  onAny: (handler: AnyEventHandler) => Handlers
  /** The handlers that run for an event of `type`, in registration order, `onAny` ones last. */
  handlersFor: (type: string) => AnyEventHandler[]
  readonly size: number
  readonly [HANDLERS]: true
}

export function createHandlers (): Handlers {
  const byType = new Map<string, AnyEventHandler[]>()
  const any: AnyEventHandler[] = []
  const add = (type: string, handler: AnyEventHandler) => {
    const list = byType.get(type) ?? []
    list.push(handler)
    byType.set(type, list)
  }
  const handlers: Handlers = {
    [HANDLERS]: true,
    on (type, handler) {
      if (typeof handler !== 'function') throw new TypeError('handler must be a function')
      const types: readonly unknown[] = Array.isArray(type) ? type : [type]
      if (types.length === 0) throw new TypeError('on() needs at least one event type')
      for (const t of types) {
        if (!isFirstPromoterEventType(t)) throw new TypeError(`unknown FirstPromoter event type ${JSON.stringify(t)}; use onAny() for every event`)
      }
      // One handler per registration: ['new_customer', 'lead_becomes_referral'] still runs it once.
      for (const t of new Set(types as string[])) add(t, handler as AnyEventHandler)
      return handlers
    },
    onAny (handler) {
      if (typeof handler !== 'function') throw new TypeError('handler must be a function')
      any.push(handler)
      return handlers
    },
    handlersFor (type) {
      const alias = (EVENT_ALIASES as Record<string, string>)[type]
      const typed = [...(byType.get(type) ?? []), ...(alias ? byType.get(alias) ?? [] : [])]
      return [...new Set(typed), ...any]
    },
    get size () {
      let n = any.length
      for (const list of byType.values()) n += list.length
      return n
    }
  }
  return handlers
}

/** Whether `value` was made by `createHandlers()` (of any copy of this package). */
export function isHandlers (value: unknown): value is Handlers {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[HANDLERS] === true &&
    typeof (value as Handlers).handlersFor === 'function'
}

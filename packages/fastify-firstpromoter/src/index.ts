import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { createHandlerRegistry, type HandlerRegistry } from './handlers.js'
import { normalizeOptions, type FastifyFirstPromoterOptions } from './options.js'
import { webhookRoutes } from './route.js'

export interface FirstPromoterDecorator {
  /** Registers a typed handler, run by the worker after the event is stored (never on the request path). */
  on: HandlerRegistry['on']
  handlers: HandlerRegistry
  /** The full route prefix, e.g. `/webhooks/firstpromoter`. */
  prefix: string
}

/** What the route learnt about a delivery, for the app's own hooks (metrics, audit). */
export interface DeliveryFacts {
  eventType: string | null
  eventId: string | null
  fulfilmentId: number | null
  duplicate: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    firstpromoter: FirstPromoterDecorator
  }
  interface FastifyRequest {
    /** Set by the webhook route once the envelope is valid; null on other routes and rejected bodies. */
    firstpromoterDelivery: DeliveryFacts | null
  }
}

const plugin: FastifyPluginAsync<FastifyFirstPromoterOptions> = async (app, options) => {
  const opts = normalizeOptions(options)
  const handlers = options.handlers ?? createHandlerRegistry()
  app.decorateRequest('firstpromoterDelivery', null)
  app.decorate('firstpromoter', {
    on: handlers.on,
    handlers,
    prefix: app.prefix + opts.prefix
  })
  await app.register(webhookRoutes(opts), { prefix: opts.prefix })
}

export const fastifyFirstPromoter = fp(plugin, { fastify: '5.x', name: 'fastify-firstpromoter' })
export default fastifyFirstPromoter

export type { FastifyFirstPromoterOptions } from './options.js'
export {
  DEFAULT_BODY_LIMIT,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  DEFAULT_FULFILMENT_WAIT_MS,
  DEFAULT_PREFIX,
  DEFAULT_QUARANTINE_BODY_LIMIT,
  DEFAULT_STORE_TIMEOUT_MS,
  MAX_SECRET_LENGTH,
  MIN_SECRET_LENGTH,
  normalizeSecrets
} from './options.js'
export * from './seams.js'
export * from './schemas.js'
export * from './errors.js'
export * from './responses.js'
export { createHandlerRegistry, type HandlerRegistry, type HandlerContext, type EventHandler, type AnyEventHandler, type RegisterHandler } from './handlers.js'
export { createSecretMatcher } from './secret.js'
export { redactInPlace, scrubRawBody, maskUrl, REDACTED } from './redact.js'
export { maskedUrl } from './route.js'
export type { FulfilmentAnswer } from './protocol.js'
export { fulfilmentFacts, v1Delivery } from './delivery.js'
export { fulfilmentPendingCheck, documentedShapeErrors, type FieldError } from './validate.js'

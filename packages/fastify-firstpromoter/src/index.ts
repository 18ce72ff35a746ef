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
export { redactInPlace, maskUrl, maskEmails, maskSecrets, loggableError, REDACTED } from './redact.js'
export { scrubRawBody } from './scrub.js'
export {
  clientErrorHandler,
  firstPromoterServerOptions,
  frameworkErrors,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type FirstPromoterServerTimeouts
} from './server-options.js'
export { maskedUrl } from './route.js'
export type { FulfilmentAnswer } from './protocol.js'
export { fulfilmentFacts, usableTime, v1Delivery } from './delivery.js'
export { fulfilmentPendingCheck, documentedShapeErrors, type FieldError } from './validate.js'
export { V2WebhookEnvelopeSchema, V2ChangeSchema, V2ChangesSchema, V2PromoterRefSchema, V2ReferralRefSchema, V2CampaignRefSchema, V2PromoterSchema, V2PromoterCampaignSchema, V2ReferralSchema, V2CommissionPromoterCampaignSchema, V2CommissionSchema, V2PayoutSchema, V2ContractDocumentSchema, V2OtherEntitySchema, V2TestDataSchema, V2_EVENT_TYPES, V2EventDataSchemaByType, NON_MONETARY_UNITS, isKnownV2EventType, isNonMonetaryUnit, entityTypeOf, changeOf, isV2TestDelivery, type V2WebhookEnvelope, type V2Change, type V2Changes, type V2PromoterRef, type V2ReferralRef, type V2CampaignRef, type V2Promoter, type V2PromoterCampaign, type V2Referral, type V2Commission, type V2Payout, type V2ContractDocument, type V2OtherEntity, type V2EventType, type V2EventDataByType, type V2Event, type NonMonetaryUnit } from './schemas-v2.js'
export { commissionApproval, type V2CommissionDecision, type V2CommissionApproval, type V2NotAnApproval, type V2NotApprovalReason, type V2ApprovalTrigger, type V2Beneficiary, type V2ReferralFacts } from './v2-commission.js'

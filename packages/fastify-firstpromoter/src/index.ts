import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { normalizeOptions, type FastifyFirstPromoterOptions } from './options.js'
import { webhookRoutes } from './route.js'

/**
 * What the plugin decorates the instance with. Event handlers are not here: they run in the
 * worker, declared in the definition module (`defineFirstPromoter` from @fp-webhooks/worker).
 */
export interface FirstPromoterDecorator {
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
  app.decorateRequest('firstpromoterDelivery', null)
  app.decorate('firstpromoter', {
    prefix: app.prefix + opts.prefix
  })
  await app.register(webhookRoutes(opts), { prefix: opts.prefix })
}

export const fastifyFirstPromoter = fp(plugin, { fastify: '5.x', name: 'fastify-firstpromoter' })
export default fastifyFirstPromoter

// The public API, by module. Each name is listed: a module's helpers stay internal unless named here.

// Options and their defaults.
export type { FastifyFirstPromoterOptions } from './options.js'
export {
  DEFAULT_ACCEPT_V2,
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

// v2 credentials on top of the URL secret: a custom header, Basic auth, a signature.
export {
  MIN_V2_CREDENTIAL_LENGTH,
  V2_SIGNATURE_HEADER,
  normalizeV2Auth,
  v2CredentialValues,
  type NormalizedV2Auth,
  type V2AuthOptions
} from './v2-auth.js'

// The seams: what a store and a dispatcher implement, and what they are given.
export type {
  Delivery,
  FirstPromoterDispatcher,
  FirstPromoterStore,
  FulfilmentAnswerNote,
  FulfilmentFacts,
  FulfilmentState,
  FulfilmentStatus,
  SettledAnswer,
  SettleNote,
  QuarantineEntry,
  RecordOptions,
  RecordResult
} from './seams.js'

// The fulfilment protocol's decision (200 granted, 202 pending, 422 failed).
export type { FulfilmentDecision } from './protocol.js'
export { FAILED_WITHOUT_REASON } from './protocol.js'

// Building a delivery from a stored or replayed v1 envelope (the worker and the CLI do).
export { fulfilmentFacts, usableTime, v1Delivery } from './delivery.js'

// Error constructors, one per code the plugin sends (the README's Errors table).
export {
  FST_FIRSTPROMOTER_BODY_TOO_LARGE,
  FST_FIRSTPROMOTER_FULFILMENT_FAILED,
  FST_FIRSTPROMOTER_INTERNAL,
  FST_FIRSTPROMOTER_INVALID_ENVELOPE,
  FST_FIRSTPROMOTER_INVALID_FULFILMENT,
  FST_FIRSTPROMOTER_INVALID_JSON,
  FST_FIRSTPROMOTER_NOT_FOUND,
  FST_FIRSTPROMOTER_OPTIONS,
  FST_FIRSTPROMOTER_STORE_UNAVAILABLE,
  FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE
} from './errors.js'

// Answer bodies.
export {
  DeliveryAnswerSchema,
  ErrorBodySchema,
  FulfilmentAnswerSchema,
  ReceivedSchema,
  type ErrorBody,
  type FulfilmentAnswerBody,
  type Received
} from './responses.js'

// v1 payloads: TypeBox schemas and their types.
export {
  BalanceSchema,
  CampaignSchema,
  FpIdSchema,
  FulfilmentAmountSchema,
  FulfilmentIdSchema,
  FulfilmentPendingDataSchema,
  FulfilmentSchema,
  LeadEventDataSchema,
  LeadSchema,
  NullableSchema,
  ProfileSchema,
  PromoterAcceptedDataSchema,
  PromoterSchema,
  PromoterSignedUpDataSchema,
  PromotionSchema,
  RewardCreatedDataSchema,
  RewardRuleSchema,
  RewardSchema,
  TimestampSchema,
  UnitSchema,
  V1_EVENT_TYPES,
  V1EnvelopeSchema,
  V1EventDataSchemaByType,
  V1EventSchema,
  type Balance,
  type Campaign,
  type FpId,
  type Fulfilment,
  type FulfilmentAmount,
  type FulfilmentPendingData,
  type Lead,
  type LeadEventData,
  type Profile,
  type Promoter,
  type PromoterAcceptedData,
  type PromoterSignedUpData,
  type Promotion,
  type Reward,
  type RewardCreatedData,
  type RewardRule,
  type Timestamp,
  type V1Envelope,
  type V1Event,
  type V1EventDataByType,
  type V1EventType
} from './schemas.js'

// Checks the worker runs on stored v1 events, off the request path.
export { documentedShapeErrors, fulfilmentPendingCheck, type FieldError } from './validate.js'

// v2 payloads: the envelope, the entities, the event types and helpers.
export {
  NON_MONETARY_UNITS,
  V2_EVENT_TYPES,
  V2CampaignRefSchema,
  V2ChangeSchema,
  V2ChangesSchema,
  V2CommissionPromoterCampaignSchema,
  V2CommissionSchema,
  V2ContractDocumentSchema,
  V2EventDataSchemaByType,
  V2OtherEntitySchema,
  V2PayoutSchema,
  V2PromoterCampaignSchema,
  V2PromoterRefSchema,
  V2PromoterSchema,
  V2ReferralRefSchema,
  V2ReferralSchema,
  V2TestDataSchema,
  V2WebhookEnvelopeSchema,
  changeOf,
  entityTypeOf,
  isKnownV2EventType,
  isNonMonetaryUnit,
  isV2TestDelivery,
  type NonMonetaryUnit,
  type V2CampaignRef,
  type V2Change,
  type V2Changes,
  type V2Commission,
  type V2ContractDocument,
  type V2Event,
  type V2EventDataByType,
  type V2EventType,
  type V2OtherEntity,
  type V2Payout,
  type V2Promoter,
  type V2PromoterCampaign,
  type V2PromoterRef,
  type V2Referral,
  type V2ReferralRef,
  type V2WebhookEnvelope
} from './schemas-v2.js'

// v2 commissions: whether a delivery is a non-monetary commission becoming approved.
export {
  commissionApproval,
  type V2ApprovalTrigger,
  type V2Beneficiary,
  type V2CommissionApproval,
  type V2CommissionDecision,
  type V2NotAnApproval,
  type V2NotApprovalReason,
  type V2ReferralFacts
} from './v2-commission.js'

// Secrets and redaction: the constant-time secret check, and masking for stored payloads and logs.
export { createSecretMatcher } from './secret.js'
export { REDACTED, loggableError, maskEmails, maskSecrets, maskUrl, maskedUrl, redactInPlace } from './redact.js'
export { scrubRawBody } from './scrub.js'

// Server options a plugin cannot set for itself.
export {
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  clientErrorHandler,
  firstPromoterServerOptions,
  frameworkErrors,
  type FirstPromoterServerTimeouts
} from './server-options.js'

import t from 'tap'
import * as api from '../src/index.js'
// The seam and protocol types, by their names (this file is type-checked with the tests).
import type { FirstPromoterStore, FulfilmentAnswerNote, FulfilmentDecision } from '../src/index.js'

// The public values, as index.ts lists them. A change here is a change of the published API.
const PUBLIC_VALUES = [
  'default', 'fastifyFirstPromoter',
  // options
  'DEFAULT_ACCEPT_V2', 'DEFAULT_BODY_LIMIT', 'DEFAULT_ENQUEUE_TIMEOUT_MS', 'DEFAULT_FULFILMENT_WAIT_MS', 'DEFAULT_PREFIX',
  'DEFAULT_QUARANTINE_BODY_LIMIT', 'DEFAULT_STORE_TIMEOUT_MS', 'MAX_SECRET_LENGTH', 'MIN_SECRET_LENGTH', 'normalizeSecrets',
  // v2 credentials
  'MIN_V2_CREDENTIAL_LENGTH', 'V2_SIGNATURE_HEADER', 'normalizeV2Auth', 'v2CredentialValues',
  // deliveries
  'fulfilmentFacts', 'usableTime', 'v1Delivery',
  // errors
  'FST_FIRSTPROMOTER_BODY_TOO_LARGE', 'FST_FIRSTPROMOTER_FULFILMENT_FAILED', 'FST_FIRSTPROMOTER_INTERNAL',
  'FST_FIRSTPROMOTER_INVALID_ENVELOPE', 'FST_FIRSTPROMOTER_INVALID_FULFILMENT', 'FST_FIRSTPROMOTER_INVALID_JSON',
  'FST_FIRSTPROMOTER_NOT_FOUND', 'FST_FIRSTPROMOTER_OPTIONS', 'FST_FIRSTPROMOTER_STORE_UNAVAILABLE',
  'FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE',
  // answer bodies
  'DeliveryAnswerSchema', 'ErrorBodySchema', 'FAILED_WITHOUT_REASON', 'FulfilmentAnswerSchema', 'ReceivedSchema',
  // v1 payloads
  'BalanceSchema', 'CampaignSchema', 'FpIdSchema', 'FulfilmentAmountSchema', 'FulfilmentIdSchema',
  'FulfilmentPendingDataSchema', 'FulfilmentSchema', 'LeadEventDataSchema', 'LeadSchema', 'NullableSchema',
  'ProfileSchema', 'PromoterAcceptedDataSchema', 'PromoterSchema', 'PromoterSignedUpDataSchema', 'PromotionSchema',
  'RewardCreatedDataSchema', 'RewardRuleSchema', 'RewardSchema', 'TimestampSchema', 'UnitSchema', 'V1_EVENT_TYPES',
  'V1EnvelopeSchema', 'V1EventDataSchemaByType', 'V1EventSchema',
  'documentedShapeErrors', 'fulfilmentPendingCheck',
  // v2 payloads and commissions
  'NON_MONETARY_UNITS', 'V2_EVENT_TYPES', 'V2CampaignRefSchema', 'V2ChangeSchema', 'V2ChangesSchema',
  'V2CommissionPromoterCampaignSchema', 'V2CommissionSchema', 'V2ContractDocumentSchema', 'V2EventDataSchemaByType',
  'V2OtherEntitySchema', 'V2PayoutSchema', 'V2PromoterCampaignSchema', 'V2PromoterRefSchema', 'V2PromoterSchema',
  'V2ReferralRefSchema', 'V2ReferralSchema', 'V2TestDataSchema', 'V2WebhookEnvelopeSchema',
  'changeOf', 'entityTypeOf', 'isKnownV2EventType', 'isNonMonetaryUnit', 'isV2TestDelivery', 'commissionApproval',
  // secrets and redaction
  'createSecretMatcher', 'REDACTED', 'loggableError', 'maskEmails', 'maskSecrets', 'maskUrl', 'maskedUrl',
  'redactInPlace', 'scrubRawBody',
  // server options
  'DEFAULT_CONNECTION_TIMEOUT_MS', 'DEFAULT_KEEP_ALIVE_TIMEOUT_MS', 'DEFAULT_REQUEST_TIMEOUT_MS',
  'clientErrorHandler', 'firstPromoterServerOptions', 'frameworkErrors'
]

t.test('the public values are exactly the listed ones', async (t) => {
  const exported = Object.keys(api).sort()
  t.same(exported, [...PUBLIC_VALUES].sort(), `added: ${exported.filter((n) => !PUBLIC_VALUES.includes(n)).join(', ') || 'none'}; missing: ${PUBLIC_VALUES.filter((n) => !exported.includes(n)).join(', ') || 'none'}`)
})

t.test('noteAnswer takes a FulfilmentAnswerNote; the protocol decides a FulfilmentDecision', async (t) => {
  const decision: FulfilmentDecision = { statusCode: 202, state: 'pending', reason: null }
  const note: Parameters<FirstPromoterStore['noteAnswer']>[0] = { fulfilmentId: 1, eventId: '2', statusCode: decision.statusCode, reason: decision.reason }
  const same: FulfilmentAnswerNote = note
  t.equal(same.statusCode, 202)
})

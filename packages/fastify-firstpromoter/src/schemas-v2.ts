/*
 * TypeBox schemas and types for FirstPromoter's v2 webhooks (docs/firstpromoter-v2.md).
 *
 * v2 payloads are documented only by a handful of examples, and those changed in April 2026
 * (a commission carries either a nested `referral {id, email, uid}` or flat `promoter_id` /
 * `referral_id`). So, like the v1 schemas, these are tolerant: objects keep extra properties,
 * nearly every field is optional and nullable, and ids accept integers and numeric strings.
 *
 * `V2WebhookEnvelopeSchema` is the strict check a delivery must pass (`event_id`, `event_type`,
 * `data`); everything else it carries is optional. The entity schemas are advisory: a detail inside
 * `data` must never turn a delivery FirstPromoter will retry for hours into a refusal.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import {
  BalanceSchema,
  FpIdSchema,
  NullableSchema,
  ProfileSchema,
  TimestampSchema
} from './schemas.js'

const OptionalString = Type.Optional(NullableSchema(Type.String()))
const OptionalNumber = Type.Optional(NullableSchema(Type.Number()))
const OptionalBoolean = Type.Optional(NullableSchema(Type.Boolean()))
const OptionalTimestamp = Type.Optional(NullableSchema(TimestampSchema))
const OptionalFpId = Type.Optional(NullableSchema(FpIdSchema))
// Money and quantities: a number in every example; a numeric string would not surprise.
const OptionalAmount = Type.Optional(NullableSchema(Type.Union([Type.Number(), Type.String({ pattern: '^-?[0-9]+(\\.[0-9]+)?$' })])))
const OptionalObject = Type.Optional(NullableSchema(Type.Record(Type.String(), Type.Unknown())))

/** One field's change in an `updated` event: `[old, new]`. */
export const V2ChangeSchema = Type.Tuple([Type.Unknown(), Type.Unknown()])
export type V2Change = Static<typeof V2ChangeSchema>

/** `changes` as documented: each changed field maps to `[old, new]`; `{}` for created and deleted. */
export const V2ChangesSchema = Type.Record(Type.String(), V2ChangeSchema)
export type V2Changes = Static<typeof V2ChangesSchema>

/**
 * The v2 envelope, the strict check of every v2 delivery. Required: `event_id` (a UUID in the
 * docs; any 1–100 character string), `event_type` (`entity.action`; any 1–100 character string,
 * so unknown types are stored and ignored) and `data`, an object. Optional, of any value, since
 * nothing relies on them: `action`, `entity_type` (lowercase in the guides, capitalised in the API
 * reference: compare with `entityTypeOf`), `entity_id`, `changes` (documented as an object of
 * `[old, new]` pairs; `changeOf` ignores anything else) and `timestamp` (parse it, fall back to
 * null). A dashboard test delivery passes too: its `data` is `{ "test": true }` (`isV2TestDelivery`).
 */
export const V2WebhookEnvelopeSchema = Type.Object({
  event_id: Type.String({ minLength: 1, maxLength: 100 }),
  event_type: Type.String({ minLength: 1, maxLength: 100 }),
  // Not relied on (read with typeof checks, `changeOf`), so never a reason to refuse the delivery.
  action: Type.Optional(Type.Unknown()),
  entity_type: Type.Optional(Type.Unknown()),
  entity_id: Type.Optional(Type.Unknown()),
  changes: Type.Optional(Type.Unknown()),
  data: Type.Record(Type.String(), Type.Unknown()),
  timestamp: Type.Optional(Type.Unknown())
})
export type V2WebhookEnvelope = Static<typeof V2WebhookEnvelopeSchema>

/** A promoter as v2 webhooks and the v2 API nest it (`{ id, email, name }`). */
export const V2PromoterRefSchema = Type.Object({
  id: OptionalFpId,
  email: OptionalString,
  name: OptionalString,
  cust_id: OptionalString
})
export type V2PromoterRef = Static<typeof V2PromoterRefSchema>

/** A referral as a commission nests it (`{ id, email, uid }`; `uid` is the integrator's user id). */
export const V2ReferralRefSchema = Type.Object({
  id: OptionalFpId,
  email: OptionalString,
  uid: OptionalString
})
export type V2ReferralRef = Static<typeof V2ReferralRefSchema>

/** A campaign as the v2 API nests it. */
export const V2CampaignRefSchema = Type.Object({
  id: OptionalFpId,
  name: OptionalString,
  color: OptionalString
})
export type V2CampaignRef = Static<typeof V2CampaignRefSchema>

/**
 * `promoter.*` data. Two documented shapes: the current one (`name`, `balances`, `joined_at`) and
 * the one before April 2026 (`status`, `default_ref_id`, `earnings_balance`/`current_balance`/
 * `paid_balance` keyed by unit, `created_at`). `auth_token` and `temp_password` are secrets if
 * they ever appear (docs/firstpromoter-v1.md, section 3): the plugin's default redaction covers them.
 */
export const V2PromoterSchema = Type.Object({
  id: FpIdSchema,
  email: OptionalString,
  name: OptionalString,
  cust_id: OptionalString,
  status: OptionalString,
  state: OptionalString,
  // Its content is not documented (`{}` in the example).
  balances: OptionalObject,
  earnings_balance: Type.Optional(BalanceSchema),
  current_balance: Type.Optional(BalanceSchema),
  paid_balance: Type.Optional(BalanceSchema),
  default_ref_id: OptionalString,
  joined_at: OptionalTimestamp,
  created_at: OptionalTimestamp,
  updated_at: OptionalTimestamp,
  profile: Type.Optional(NullableSchema(ProfileSchema)),
  parent_promoter_id: OptionalFpId,
  temp_password: OptionalString,
  auth_token: OptionalString
})
export type V2Promoter = Static<typeof V2PromoterSchema>

/**
 * `promoter_campaign.*` data: a promoter's membership of one campaign (no webhook example is
 * documented; the shape is the v2 API's `PromoterCampaign`). `state` is `pending`, `accepted`,
 * `rejected`, `blocked` or `inactive`.
 */
export const V2PromoterCampaignSchema = Type.Object({
  id: FpIdSchema,
  campaign_id: OptionalFpId,
  promoter_id: OptionalFpId,
  state: OptionalString,
  ref_token: OptionalString,
  ref_link: OptionalString,
  coupon: OptionalString,
  display_coupon: OptionalString,
  direct_url: OptionalString,
  is_customized: OptionalBoolean,
  promoter: Type.Optional(NullableSchema(V2PromoterRefSchema)),
  campaign: Type.Optional(NullableSchema(V2CampaignRefSchema)),
  created_at: OptionalTimestamp
})
export type V2PromoterCampaign = Static<typeof V2PromoterCampaignSchema>

/**
 * `referral.*` data. Current examples say `state` (`signup`, `active`…) and `fraud_check`; older
 * ones `status` (`signup`, `customer`) and `suspicion`: read `state`, fall back to `status`.
 */
export const V2ReferralSchema = Type.Object({
  id: FpIdSchema,
  state: OptionalString,
  status: OptionalString,
  email: OptionalString,
  uid: OptionalString,
  customer_since: OptionalTimestamp,
  cancelled_at: OptionalTimestamp,
  plan_name: OptionalString,
  fraud_check: OptionalString,
  suspicion: OptionalString,
  promoter_id: OptionalFpId,
  campaign_id: OptionalFpId,
  promoter_campaign_id: OptionalFpId,
  created_at: OptionalTimestamp,
  updated_at: OptionalTimestamp
})
export type V2Referral = Static<typeof V2ReferralSchema>

/** The promoter campaign a commission belongs to, as the v2 API nests it. */
export const V2CommissionPromoterCampaignSchema = Type.Object({
  id: OptionalFpId,
  campaign_id: OptionalFpId,
  promoter_id: OptionalFpId,
  promoter: Type.Optional(NullableSchema(V2PromoterRefSchema)),
  campaign: Type.Optional(NullableSchema(V2CampaignRefSchema)),
  created_at: OptionalTimestamp
})

/**
 * `commission.*` data, and a row of `GET /commissions`. Both documented webhook shapes: nested
 * `referral {id, email, uid}` (current) or flat `promoter_id` / `referral_id` (before April 2026,
 * with `currency` on cash commissions). The API adds `promoter_campaign {promoter_id, promoter}`.
 * `status` is `pending`, `approved` or `denied`; `amount` is in the unit's smallest denomination.
 */
export const V2CommissionSchema = Type.Object({
  id: FpIdSchema,
  status: OptionalString,
  amount: OptionalAmount,
  unit: OptionalString,
  currency: OptionalString,
  promoter_id: OptionalFpId,
  referral_id: OptionalFpId,
  referral: Type.Optional(NullableSchema(V2ReferralRefSchema)),
  promoter: Type.Optional(NullableSchema(V2PromoterRefSchema)),
  promoter_campaign: Type.Optional(NullableSchema(V2CommissionPromoterCampaignSchema)),
  commission_type: OptionalString,
  sale_amount: OptionalAmount,
  event_id: Type.Optional(NullableSchema(Type.Union([Type.String(), Type.Number()]))),
  is_paid: OptionalBoolean,
  tier: OptionalNumber,
  reward: OptionalObject,
  created_at: OptionalTimestamp,
  status_updated_at: OptionalTimestamp
})
export type V2Commission = Static<typeof V2CommissionSchema>

/**
 * `payout.*` data (no webhook example is documented; the shape follows the v2 API's payouts).
 * `status` is `pending`, `processing`, `completed`, `failed` or `cancelled`. Marking a
 * non-monetary commission fulfilled completes its payout and fires `payout.updated`.
 */
export const V2PayoutSchema = Type.Object({
  id: FpIdSchema,
  status: OptionalString,
  amount: OptionalAmount,
  unit: OptionalString,
  currency: OptionalString,
  promoter_id: OptionalFpId,
  promoter: Type.Optional(NullableSchema(V2PromoterRefSchema)),
  campaign: Type.Optional(NullableSchema(V2CampaignRefSchema)),
  paid_at: OptionalTimestamp,
  due_date: OptionalTimestamp,
  period_start: OptionalTimestamp,
  period_end: OptionalTimestamp,
  created_at: OptionalTimestamp,
  updated_at: OptionalTimestamp
})
export type V2Payout = Static<typeof V2PayoutSchema>

/** `contract_document.signed` data, as documented. */
export const V2ContractDocumentSchema = Type.Object({
  id: FpIdSchema,
  promoter_id: OptionalFpId,
  signed_at: OptionalTimestamp,
  created_at: OptionalTimestamp
})
export type V2ContractDocument = Static<typeof V2ContractDocumentSchema>

/** The data of an entity the receiver does not use (payout methods, payment batches…). */
export const V2OtherEntitySchema = Type.Object({ id: OptionalFpId })
export type V2OtherEntity = Static<typeof V2OtherEntitySchema>

/** `data` of a dashboard test delivery. */
export const V2TestDataSchema = Type.Object({ test: Type.Literal(true) })

/**
 * Every v2 event type this package knows: the current list (the event-types page and
 * FirstPromoter's own n8n integration) and the names older lists had (`promoter.profile.updated`,
 * `payout.commissions.created|updated|deleted`). Unknown types are still accepted and stored.
 */
export const V2_EVENT_TYPES = [
  'promoter.created',
  'promoter.updated',
  'promoter.deleted',
  'promoter.balance.updated',
  'promoter.profile.updated',
  'promoter_campaign.created',
  'promoter_campaign.updated',
  'promoter_campaign.deleted',
  'promoter_campaign.accepted',
  'promoter_campaign.pending',
  'promoter_campaign.rejected',
  'promoter_campaign.blocked',
  'promoter_campaign.inactive',
  'referral.created',
  'referral.updated',
  'referral.deleted',
  'referral.converted',
  'referral.cancelled',
  'referral.moved',
  'commission.created',
  'commission.updated',
  'commission.deleted',
  'commission.approved',
  'commission.pending',
  'commission.denied',
  'payout.created',
  'payout.updated',
  'payout.deleted',
  'payout.pending',
  'payout.processing',
  'payout.completed',
  'payout.failed',
  'payout.cancelled',
  'payout.commissions.added',
  'payout.commissions.removed',
  'payout.commissions.created',
  'payout.commissions.updated',
  'payout.commissions.deleted',
  'payout_method.created',
  'payout_method.updated',
  'payout_method.deleted',
  'payments_batch.created',
  'payments_batch.updated',
  'payments_batch.deleted',
  'payments_batch.initiated',
  'payments_batch.processing',
  'payments_batch.completed',
  'payments_batch.failed',
  'contract_document.signed'
] as const
export type V2EventType = (typeof V2_EVENT_TYPES)[number]

const KNOWN_V2_TYPES: ReadonlySet<string> = new Set(V2_EVENT_TYPES)

/** Whether `type` is one of `V2_EVENT_TYPES`. */
export function isKnownV2EventType (type: string): type is V2EventType {
  return KNOWN_V2_TYPES.has(type)
}

/**
 * The data schema of an event type: by the entity before the first dot. `payout.commissions.*`
 * carries a payout (what it carries is not documented; a payout is the likeliest reading).
 */
function dataSchemaOf (type: V2EventType): TSchema {
  const entity = type.slice(0, type.indexOf('.'))
  switch (entity) {
    case 'promoter': return V2PromoterSchema
    case 'promoter_campaign': return V2PromoterCampaignSchema
    case 'referral': return V2ReferralSchema
    case 'commission': return V2CommissionSchema
    case 'payout': return V2PayoutSchema
    case 'contract_document': return V2ContractDocumentSchema
    default: return V2OtherEntitySchema
  }
}

/** The data schema of each known v2 event type, for a per-type advisory check. */
export const V2EventDataSchemaByType: Readonly<Record<V2EventType, TSchema>> = Object.freeze(
  Object.fromEntries(V2_EVENT_TYPES.map(type => [type, dataSchemaOf(type)])) as Record<V2EventType, TSchema>
)

type EntityOf<T extends string> = T extends `${infer E}.${string}` ? E : never
interface V2DataByEntity {
  promoter: V2Promoter
  promoter_campaign: V2PromoterCampaign
  referral: V2Referral
  commission: V2Commission
  payout: V2Payout
  contract_document: V2ContractDocument
}

/** The `data` type of each known v2 event type, for typing handlers. */
export type V2EventDataByType = {
  [K in V2EventType]: EntityOf<K> extends keyof V2DataByEntity ? V2DataByEntity[EntityOf<K>] : V2OtherEntity
}

/**
 * A known v2 event, discriminated on `event_type`: `if (e.event_type === 'commission.updated')`
 * narrows `e.data` to `V2Commission`. Its `changes`, when an object, maps fields to `[old, new]`.
 */
export type V2Event<T extends V2EventType = V2EventType> = {
  [K in T]: Omit<V2WebhookEnvelope, 'event_type' | 'data' | 'changes'> & {
    event_type: K
    changes?: V2Changes | null
    data: V2EventDataByType[K]
  }
}[T]

/** The reward units a team delivers itself; every other unit (`cash`) is paid by FirstPromoter. */
export const NON_MONETARY_UNITS = ['points', 'credits', 'free_months', 'mon_discount', 'discount_per'] as const
export type NonMonetaryUnit = (typeof NON_MONETARY_UNITS)[number]

const NON_MONETARY: ReadonlySet<string> = new Set(NON_MONETARY_UNITS)

/** Whether `unit` is one of `NON_MONETARY_UNITS` (exact, lowercase spelling). */
export function isNonMonetaryUnit (unit: unknown): unit is NonMonetaryUnit {
  return typeof unit === 'string' && NON_MONETARY.has(unit)
}

/**
 * The envelope's entity, lowercased: `entity_type` when present (its case varies between the
 * guides and the API reference), else what `event_type` names before its first dot.
 */
export function entityTypeOf (envelope: Pick<V2WebhookEnvelope, 'entity_type' | 'event_type'>): string {
  if (typeof envelope.entity_type === 'string' && envelope.entity_type.trim() !== '') {
    return envelope.entity_type.trim().toLowerCase()
  }
  const dot = envelope.event_type.indexOf('.')
  return (dot === -1 ? envelope.event_type : envelope.event_type.slice(0, dot)).toLowerCase()
}

/**
 * One field's `[old, new]` from `changes`, or null when the field did not change or its entry is
 * not a pair (a malformed entry is ignored, never a reason to refuse the delivery).
 */
export function changeOf (changes: unknown, field: string): V2Change | null {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) return null
  if (!Object.hasOwn(changes, field)) return null
  const value = (changes as Record<string, unknown>)[field]
  return Array.isArray(value) && value.length === 2 ? [value[0], value[1]] : null
}

/**
 * Whether a body is a dashboard test delivery (`"data": { "test": true }`). It is checked on the
 * raw body, before the envelope: the docs do not say that a test carries `event_id`/`event_type`.
 */
export function isV2TestDelivery (body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false
  const data = (body as { data?: unknown }).data
  return data !== null && typeof data === 'object' && !Array.isArray(data) && (data as { test?: unknown }).test === true
}

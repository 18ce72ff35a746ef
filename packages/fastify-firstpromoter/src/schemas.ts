/*
 * TypeBox schemas for FirstPromoter's v1 and v2 webhook payloads (docs/firstpromoter-v1.md and
 * docs/firstpromoter-v2.md).
 *
 * FirstPromoter's docs drift (ids typed as integers or strings, `state` vs `status`, shortened
 * examples, nulls where objects are expected), so these schemas are tolerant by design: objects
 * keep extra properties (never `additionalProperties: false`), ids accept integers and numeric
 * strings, and nearly every field is optional and nullable. They are strict only where the
 * receiver relies on a value: the envelope (`V1EnvelopeSchema`; v2's is `V2WebhookEnvelopeSchema`
 * in `schemas-v2.ts`) and the fulfilment facts (`FulfilmentPendingDataSchema`). An ordinary event
 * must never be refused for a detail in its `data`, so the per-type data schemas are meant for
 * loose checks whose mismatches are only logged.
 */
import {
  Type,
  type Static,
  type TLiteral,
  type TNull,
  type TObject,
  type TSchema,
  type TString,
  type TUnion,
  type TOptional
} from '@sinclair/typebox'

/**
 * Makes a schema accept `null` as well.
 * @param schema - the schema of the non-null value
 * @returns `schema | null`
 */
export function NullableSchema<T extends TSchema> (schema: T): TUnion<[T, TNull]> {
  return Type.Union([schema, Type.Null()])
}

/**
 * A FirstPromoter id: an integer in every example, a numeric string on older pages. Integers stay
 * within the safe range so they survive `JSON.parse`; strings are bounded to 18 digits.
 */
export const FpIdSchema = Type.Union([
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  Type.String({ pattern: '^[0-9]{1,18}$' })
])
export type FpId = Static<typeof FpIdSchema>

/**
 * A timestamp as FirstPromoter writes it (ISO-8601 UTC with milliseconds). Only the date prefix is
 * checked, so other ISO-ish spellings still pass.
 */
export const TimestampSchema = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}' })
export type Timestamp = Static<typeof TimestampSchema>

/** A promoter balance keyed by unit (`{"cash": 50744, "free_months": 3}`), negative allowed, or null. */
export const BalanceSchema = NullableSchema(Type.Record(Type.String(), Type.Number()))
export type Balance = Static<typeof BalanceSchema>

// Shared building blocks for optional, nullable fields.
const OptionalString = Type.Optional(NullableSchema(Type.String()))
const OptionalNumber = Type.Optional(NullableSchema(Type.Number()))
const OptionalBoolean = Type.Optional(NullableSchema(Type.Boolean()))
const OptionalTimestamp = Type.Optional(NullableSchema(TimestampSchema))
const OptionalFpId = Type.Optional(NullableSchema(FpIdSchema))

/**
 * A reward rule (`referral_reward`, `current_promotion_reward`, `fulfilment_pending.data.reward`…).
 * Offers (`offer`, `current_offer`) share this shape without `type` and `per_of_sale`.
 */
export const RewardRuleSchema = Type.Object({
  id: OptionalFpId,
  amount: OptionalNumber,
  type: OptionalString,
  unit: OptionalString,
  name: OptionalString,
  per_of_sale: OptionalNumber,
  default_promo_code: OptionalString
})
export type RewardRule = Static<typeof RewardRuleSchema>

const OptionalRewardRule = Type.Optional(NullableSchema(RewardRuleSchema))

/** A promoter's promotion (referral link, promo codes, counters in cents). */
export const PromotionSchema = Type.Object({
  id: OptionalFpId,
  status: OptionalString,
  ref_id: OptionalString,
  promo_code: OptionalString,
  customer_promo_code: OptionalString,
  target_reached_at: OptionalTimestamp,
  promoter_id: OptionalFpId,
  campaign_id: OptionalFpId,
  referral_link: OptionalString,
  current_offer: OptionalRewardRule,
  current_referral_reward: OptionalRewardRule,
  current_promotion_reward: OptionalRewardRule,
  current_target_reward: OptionalRewardRule,
  campaign_name: OptionalString,
  hidden: OptionalBoolean,
  visitors_count: OptionalNumber,
  leads_count: OptionalNumber,
  customers_count: OptionalNumber,
  refunds_count: OptionalNumber,
  cancellations_count: OptionalNumber,
  sales_count: OptionalNumber,
  sales_total: OptionalNumber,
  refunds_total: OptionalNumber,
  active_customers_count: OptionalNumber
})
export type Promotion = Static<typeof PromotionSchema>

/** A promoter's profile: personal data (docs/firstpromoter-v1.md, section 3), never needed by the receiver. */
export const ProfileSchema = Type.Object({
  id: OptionalFpId,
  first_name: OptionalString,
  last_name: OptionalString,
  website: OptionalString,
  company_name: OptionalString,
  phone_number: OptionalString,
  address: OptionalString,
  vat_id: OptionalString,
  country: OptionalString,
  paypal_email: OptionalString,
  avatar_url: OptionalString,
  description: OptionalString,
  // Networks vary between examples (tiktok, twitch…): keyed by name.
  social_accounts: Type.Optional(NullableSchema(Type.Record(
    Type.String(),
    NullableSchema(Type.Object({ url: OptionalString }))
  )))
})
export type Profile = Static<typeof ProfileSchema>

/**
 * A promoter. Only `id` is required. `auth_token` and `temp_password` are secrets (docs/firstpromoter-v1.md,
 * section 3): never log or store them.
 */
export const PromoterSchema = Type.Object({
  id: FpIdSchema,
  status: OptionalString,
  cust_id: OptionalString,
  email: OptionalString,
  created_at: OptionalTimestamp,
  temp_password: OptionalString,
  auth_token: OptionalString,
  default_promotion_id: OptionalFpId,
  default_ref_id: OptionalString,
  pref: OptionalString,
  note: OptionalString,
  parent_promoter_id: OptionalFpId,
  w8_form_url: OptionalString,
  w9_form_url: OptionalString,
  earnings_balance: Type.Optional(BalanceSchema),
  current_balance: Type.Optional(BalanceSchema),
  paid_balance: Type.Optional(BalanceSchema),
  profile: Type.Optional(NullableSchema(ProfileSchema)),
  promotions: Type.Optional(NullableSchema(Type.Array(PromotionSchema)))
})
export type Promoter = Static<typeof PromoterSchema>

/** A campaign. `default_webhook_url` echoes our URL secret (docs/firstpromoter-v1.md, section 3):
 * mask it before use. */
export const CampaignSchema = Type.Object({
  id: OptionalFpId,
  name: OptionalString,
  landing_url: OptionalString,
  description: OptionalString,
  private: OptionalBoolean,
  color: OptionalString,
  default_webhook_url: OptionalString,
  auto_approve_rewards: OptionalBoolean,
  auto_approve_promoters: OptionalBoolean,
  offer: OptionalRewardRule,
  referral_reward: OptionalRewardRule,
  promotion_reward: OptionalRewardRule,
  target_reward: OptionalRewardRule
})
export type Campaign = Static<typeof CampaignSchema>

/**
 * A referred lead or customer. Read `state` and fall back to `status` (the docs' tables use
 * `status`, every example `state`).
 */
export const LeadSchema = Type.Object({
  id: FpIdSchema,
  state: OptionalString,
  status: OptionalString,
  email: OptionalString,
  uid: OptionalString,
  customer_since: OptionalTimestamp,
  cancelled_at: OptionalTimestamp,
  plan_name: OptionalString,
  suspicion: OptionalString,
  username: OptionalString,
  website: OptionalString,
  created_at: OptionalTimestamp,
  split_promotion_id: OptionalFpId,
  custom_fields: Type.Optional(NullableSchema(Type.Record(Type.String(), Type.Unknown()))),
  split_percentage_value: OptionalNumber,
  visitor_sub_id: OptionalString,
  promotion: Type.Optional(NullableSchema(PromotionSchema)),
  promoter: Type.Optional(NullableSchema(PromoterSchema))
})
export type Lead = Static<typeof LeadSchema>

/** A reward (`reward_created.data`): `amount` in the unit's smallest denomination (cents for cash). */
export const RewardSchema = Type.Object({
  id: FpIdSchema,
  status: OptionalString,
  amount: OptionalNumber,
  unit: OptionalString,
  created_at: OptionalTimestamp,
  // The billing invoice or charge id: a string in the docs, but a number would not surprise.
  event_id: Type.Optional(NullableSchema(Type.Union([Type.String(), Type.Number()]))),
  conversion_amount: OptionalNumber,
  tier_level: OptionalNumber,
  split_type: OptionalString,
  lead: Type.Optional(NullableSchema(LeadSchema)),
  promoter: Type.Optional(NullableSchema(PromoterSchema)),
  promotion: Type.Optional(NullableSchema(PromotionSchema))
})
export type Reward = Static<typeof RewardSchema>

/** A fulfilment quantity: an integer >= 0, or the same as a string of digits (safe-integer sized). */
export const FulfilmentAmountSchema = Type.Union([
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  Type.String({ pattern: '^[0-9]{1,15}$' })
])
export type FulfilmentAmount = Static<typeof FulfilmentAmountSchema>

/**
 * The ids a grant is keyed on (the fulfilment's and its promoter's) become numbers, so numeric
 * strings are bounded to 15 digits like amounts: a longer one could not be kept exactly.
 */
export const FulfilmentIdSchema = Type.Union([
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  Type.String({ pattern: '^[0-9]{1,15}$' })
])

/** A reward unit (`free_months`, `credits`, `points`…): the receiver keys grants on it. */
export const UnitSchema = Type.String({ minLength: 1, maxLength: 100 })

/**
 * A fulfilment (`fulfilment_pending.data`, also a row of `GET /api/v1/payouts/list`), fully
 * described. It requires what `FulfilmentPendingDataSchema` requires; the rest is optional.
 */
export const FulfilmentSchema = Type.Object({
  id: FpIdSchema,
  status: OptionalString,
  amount: FulfilmentAmountSchema,
  unit: UnitSchema,
  date_paid: OptionalTimestamp,
  due_date: OptionalTimestamp,
  created_at: OptionalTimestamp,
  has_issues: OptionalBoolean,
  reward: OptionalRewardRule,
  promoter: PromoterSchema,
  campaign: Type.Optional(NullableSchema(CampaignSchema))
})
export type Fulfilment = Static<typeof FulfilmentSchema>

/**
 * The strict check of `fulfilment_pending.data`: only the facts a grant depends on (`id`, `amount`,
 * `unit`, `promoter.id`, `promoter.cust_id`, `promoter.email`). Nothing else is declared, so a
 * malformed detail elsewhere (a campaign flag, a balance) cannot turn a grantable fulfilment into a
 * refusal, which FirstPromoter would retry and then flag with `has_issues`.
 */
export const FulfilmentPendingDataSchema = Type.Object({
  id: FulfilmentIdSchema,
  amount: FulfilmentAmountSchema,
  unit: UnitSchema,
  promoter: Type.Object({
    id: FulfilmentIdSchema,
    // The integrator's own user id; "" or null when unset.
    cust_id: Type.Optional(NullableSchema(Type.String({ maxLength: 255 }))),
    email: OptionalString
  })
})
export type FulfilmentPendingData = Static<typeof FulfilmentPendingDataSchema>

/** `data` of `lead_signup`, `lead_becomes_referral`, `new_customer` and `lead_cancelled`. */
export const LeadEventDataSchema = LeadSchema
export type LeadEventData = Static<typeof LeadEventDataSchema>

/** `data` of `promoter_signed_up` / `promoter_signs_up`. */
export const PromoterSignedUpDataSchema = Type.Object({
  promoter: PromoterSchema,
  promotions: Type.Optional(NullableSchema(Type.Array(PromotionSchema)))
})
export type PromoterSignedUpData = Static<typeof PromoterSignedUpDataSchema>

/** `data` of `promoter_accepted` (`state` is "accepted"). */
export const PromoterAcceptedDataSchema = Type.Object({
  state: OptionalString,
  campaign: Type.Optional(NullableSchema(CampaignSchema)),
  promoter: PromoterSchema,
  promotion: Type.Optional(NullableSchema(PromotionSchema))
})
export type PromoterAcceptedData = Static<typeof PromoterAcceptedDataSchema>

/** `data` of `reward_created`. */
export const RewardCreatedDataSchema = RewardSchema
export type RewardCreatedData = Static<typeof RewardCreatedDataSchema>

/** The event types this package knows. `promoter_signs_up` is FirstPromoter's own spelling of `promoter_signed_up`. */
export const V1_EVENT_TYPES = [
  'lead_signup',
  'lead_becomes_referral',
  'new_customer',
  'lead_cancelled',
  'promoter_signed_up',
  'promoter_signs_up',
  'promoter_accepted',
  'reward_created',
  'fulfilment_pending'
] as const
export type V1EventType = (typeof V1_EVENT_TYPES)[number]

/**
 * The data schema of each known v1 event type, for a per-type loose check. `fulfilment_pending`
 * maps to the full `FulfilmentSchema`; the strict check is `FulfilmentPendingDataSchema`.
 */
export const V1EventDataSchemaByType = {
  lead_signup: LeadEventDataSchema,
  lead_becomes_referral: LeadEventDataSchema,
  new_customer: LeadEventDataSchema,
  lead_cancelled: LeadEventDataSchema,
  promoter_signed_up: PromoterSignedUpDataSchema,
  promoter_signs_up: PromoterSignedUpDataSchema,
  promoter_accepted: PromoterAcceptedDataSchema,
  reward_created: RewardCreatedDataSchema,
  fulfilment_pending: FulfilmentSchema
} as const satisfies Record<V1EventType, TSchema>

/** The `data` type of each known v1 event type, for typing handlers. */
export type V1EventDataByType = {
  [K in V1EventType]: Static<(typeof V1EventDataSchemaByType)[K]>
}

const EventIdSchema = FpIdSchema
const EventTypeSchema = Type.String({ minLength: 1, maxLength: 100 })
// The documented shape, for the advisory per-type schemas.
const EventCreatedAtSchema = Type.Optional(NullableSchema(Type.String()))
// Not relied on, so any value passes the strict envelope: what is not a usable time is stored as null.
const AnyValue = Type.Optional(Type.Unknown())

/**
 * The v1 envelope, validated strictly on every delivery. It declares only what the receiver relies
 * on: `event.id` (integer or numeric string), `event.type` (1–100 characters, any value: unknown
 * types are accepted and ignored) and `data`, which must be an object (not an array, not null).
 * `event.created_at` may hold anything; nothing inside `data` is checked here.
 */
export const V1EnvelopeSchema = Type.Object({
  event: Type.Object({
    id: EventIdSchema,
    type: EventTypeSchema,
    created_at: AnyValue
  }),
  data: Type.Record(Type.String(), Type.Unknown())
})
export type V1Envelope = Static<typeof V1EnvelopeSchema>

type V1EventMemberSchema<T extends V1EventType, D extends TSchema> = TObject<{
  event: TObject<{ id: typeof EventIdSchema, type: TLiteral<T>, created_at: TOptional<TUnion<[TString, TNull]>> }>
  data: D
}>

function V1EventMember<T extends V1EventType> (type: T): V1EventMemberSchema<T, (typeof V1EventDataSchemaByType)[T]> {
  return Type.Object({
    event: Type.Object({ id: EventIdSchema, type: Type.Literal(type), created_at: EventCreatedAtSchema }),
    data: V1EventDataSchemaByType[type]
  })
}

/**
 * A known v1 event: a union discriminated on `event.type`, each member with its data schema.
 * Unknown types do not match; check `V1EnvelopeSchema` first and treat this one as advisory.
 */
export const V1EventSchema = Type.Union([
  V1EventMember('lead_signup'),
  V1EventMember('lead_becomes_referral'),
  V1EventMember('new_customer'),
  V1EventMember('lead_cancelled'),
  V1EventMember('promoter_signed_up'),
  V1EventMember('promoter_signs_up'),
  V1EventMember('promoter_accepted'),
  V1EventMember('reward_created'),
  V1EventMember('fulfilment_pending')
])
export type V1Event = Static<typeof V1EventSchema>

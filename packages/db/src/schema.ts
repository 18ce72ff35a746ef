import { sql } from 'drizzle-orm'
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex
} from 'drizzle-orm/pg-core'

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })
const fpId = (name: string) => bigint(name, { mode: 'number' })

/**
 * The inbox: one row per delivery accepted. `dedupeKey` is set for events that must collapse
 * into one even when FirstPromoter gives them different ids (the two "first payment" events).
 */
export const webhookEvents = pgTable('webhook_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  source: text('source').$type<'v1' | 'v2'>().notNull(),
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  dedupeKey: text('dedupe_key'),
  eventCreatedAt: tstz('event_created_at'),
  receivedAt: tstz('received_at').notNull().defaultNow(),
  payload: jsonb('payload').$type<unknown>(),
  state: text('state').$type<EventState>().notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  processedAt: tstz('processed_at'),
  prunedAt: tstz('pruned_at')
}, (t) => [
  uniqueIndex('webhook_events_source_event_id_uq').on(t.source, t.eventId),
  uniqueIndex('webhook_events_dedupe_key_uq').on(t.dedupeKey),
  index('webhook_events_pending_idx').on(t.receivedAt).where(sql`${t.state} = 'pending'`),
  index('webhook_events_type_received_idx').on(t.eventType, t.receivedAt),
  // The console's timeline: every delivery of one fulfilment, found by its \`data.id\`.
  index('webhook_events_fulfilment_idx').on(sql`(${t.payload} #>> '{data,id}')`).where(sql`${t.eventType} = 'fulfilment_pending'`),
  // The console's failed events: few rows, nothing on the ingest path.
  index('webhook_events_failed_idx').on(t.receivedAt).where(sql`${t.state} = 'failed'`)
])

/**
 * The outbox of the inbox: one narrow row per new inbox row to process, written by the statement
 * that stores the delivery and deleted by the worker's relay in the transaction that queues its job
 * (see docs/ingest.md). No foreign key: its check would cost a lookup per delivery.
 */
export const eventOutbox = pgTable('event_outbox', {
  inboxId: bigint('inbox_id', { mode: 'number' }).primaryKey(),
  eventType: text('event_type').notNull()
})

/** `test`: a v2 test delivery, stored as it came and never processed (nothing lists it as pending). */
export type EventState = 'pending' | 'processed' | 'failed' | 'test'

/** Deliveries that could not be accepted; the body is kept (capped, secrets scrubbed) for a human. */
export const quarantine = pgTable('quarantine', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  receivedAt: tstz('received_at').notNull().defaultNow(),
  reason: text('reason').notNull(),
  statusCode: smallint('status_code').notNull(),
  details: jsonb('details').$type<unknown>(),
  contentType: text('content_type'),
  bodySize: integer('body_size').notNull(),
  body: text('body'),
  bodyTruncated: boolean('body_truncated').notNull().default(false),
  resubmittedAt: tstz('resubmitted_at')
}, (t) => [index('quarantine_received_idx').on(t.receivedAt)])

export type FulfilmentState = 'pending' | 'granting' | 'granted' | 'failed'
export type ApiCloseState = 'not_needed' | 'pending' | 'done' | 'failed'
/**
 * Where a fulfilment comes from, each its own id namespace: a v1 payout (`fulfilment_pending.data.id`)
 * or a v2 non-monetary commission (docs/firstpromoter-v2.md, "Non-monetary commissions").
 */
export type FulfilmentKind = 'v1_payout' | 'v2_commission'

/**
 * One row per FirstPromoter fulfilment, keyed (`kind`, `fp_id`). `id`, the key every job, ledger
 * row and answer uses, is the payout id for v1 and minus the commission id for v2, so the two
 * namespaces can never meet (the check constraint holds it).
 */
export const fulfilments = pgTable('fulfilments', {
  id: fpId('id').primaryKey(),
  kind: text('kind').$type<FulfilmentKind>().notNull().default('v1_payout'),
  /** FirstPromoter's own id: the payout id (v1) or the commission id (v2). */
  fpId: bigint('fp_id', { mode: 'number' }).generatedAlwaysAs(sql`abs(id)`),
  source: text('source').$type<'webhook' | 'reconcile'>().notNull().default('webhook'),
  unit: text('unit').notNull(),
  amount: bigint('amount', { mode: 'number' }).notNull(),
  /** The rewarded party: `cust:<cust_id>` when FirstPromoter knows the integrator's id, else `promoter:<id>`. */
  beneficiary: text('beneficiary').notNull(),
  promoterId: fpId('promoter_id'),
  custId: text('cust_id'),
  promoterEmail: text('promoter_email'),
  /** v2: the referred customer's facts, when the commission has a referral. */
  referralId: fpId('referral_id'),
  referralUid: text('referral_uid'),
  referralEmail: text('referral_email'),
  /** v2: the party the payload names as rewarded; null when it does not say (the grant decides). */
  party: text('party').$type<'promoter' | 'referral'>(),
  state: text('state').$type<FulfilmentState>().notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  failureReason: text('failure_reason'),
  firstEventId: text('first_event_id'),
  createdAt: createdAt(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
  grantedAt: tstz('granted_at'),
  /** Set once we have answered FirstPromoter with a non-200 2xx: it still thinks the fulfilment is pending. */
  answeredPending: boolean('answered_pending').notNull().default(false),
  /**
   * Set by the statement that records a delivery, before any answer: FirstPromoter has not been told
   * it is done. Cleared only once a 200 is being answered (the answer note). A grant that commits
   * while it is set makes the API close due; the sweeper sends it after a grace period, unless the
   * 200 is noted first (the usual case), so a 202 whose settle step failed is still closed.
   */
  awaitingAnswer: boolean('awaiting_answer').notNull().default(false),
  apiClose: text('api_close').$type<ApiCloseState>().notNull().default('not_needed'),
  apiClosedAt: tstz('api_closed_at'),
  apiCloseError: text('api_close_error')
}, (t) => [
  uniqueIndex('fulfilments_kind_fp_id_uq').on(t.kind, t.fpId),
  check('fulfilments_kind_id_ck', sql`(${t.kind} = 'v1_payout' and ${t.id} >= 0) or (${t.kind} = 'v2_commission' and ${t.id} < 0)`),
  index('fulfilments_state_idx').on(t.state, t.updatedAt),
  // The sweeper's closes due: few rows at any time.
  index('fulfilments_close_due_idx').on(t.updatedAt).where(sql`${t.apiClose} = 'pending'`),
  // The console's failed API closes: a human must act on each.
  index('fulfilments_close_failed_idx').on(t.updatedAt).where(sql`${t.apiClose} = 'failed'`)
])

/**
 * The pause switch of grants: one row per pause in force. `scope` is a unit, or `*` for every
 * unit. Every api and worker process reads it here, so a pause holds across all of them.
 */
export const grantPauses = pgTable('grant_pauses', {
  scope: text('scope').primaryKey(),
  pausedAt: tstz('paused_at').notNull().defaultNow(),
  /** Who paused it: `admin` (the bearer token) or the console session; never a token. */
  pausedBy: text('paused_by').notNull()
})

/** The `scope` of a pause of every unit. */
export const ALL_UNITS = '*'

/** Every answer we gave FirstPromoter for a fulfilment, in order. */
export const fulfilmentAnswers = pgTable('fulfilment_answers', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  fulfilmentId: fpId('fulfilment_id').notNull().references(() => fulfilments.id, { onDelete: 'cascade' }),
  eventId: text('event_id'),
  statusCode: smallint('status_code').notNull(),
  reason: text('reason'),
  answeredAt: tstz('answered_at').notNull().defaultNow()
}, (t) => [index('fulfilment_answers_fulfilment_idx').on(t.fulfilmentId, t.answeredAt)])

/**
 * The reward ledger. The unique fulfilment id makes a second grant impossible at the database
 * level, whatever the workers do. A balance is `sum(amount)` per (beneficiary, unit).
 */
export const ledgerEntries = pgTable('ledger_entries', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  fulfilmentId: fpId('fulfilment_id').notNull().references(() => fulfilments.id),
  beneficiary: text('beneficiary').notNull(),
  promoterId: fpId('promoter_id'),
  custId: text('cust_id'),
  unit: text('unit').notNull(),
  amount: bigint('amount', { mode: 'number' }).notNull(),
  grantedAt: tstz('granted_at').notNull().defaultNow()
}, (t) => [
  uniqueIndex('ledger_entries_fulfilment_uq').on(t.fulfilmentId),
  index('ledger_entries_balance_idx').on(t.beneficiary, t.unit)
])

/*
 * Projections. `sourceAt` / `sourceEventId` are FirstPromoter's event time and id of the state a row
 * holds; an upsert only wins when its (time, id) is newer, so arrival order does not matter.
 */
const projectionVersion = () => ({
  sourceAt: tstz('source_at').notNull(),
  sourceEventId: bigint('source_event_id', { mode: 'number' }).notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow()
})

export const promoters = pgTable('promoters', {
  id: fpId('id').primaryKey(),
  status: text('status'),
  custId: text('cust_id'),
  email: text('email'),
  parentPromoterId: fpId('parent_promoter_id'),
  defaultRefId: text('default_ref_id'),
  /** From `promoter_accepted` only, versioned on its own: other events carry no campaign. */
  campaignId: fpId('campaign_id'),
  acceptedAt: tstz('accepted_at'),
  acceptedEventId: bigint('accepted_event_id', { mode: 'number' }),
  earningsBalance: jsonb('earnings_balance').$type<Record<string, number> | null>(),
  currentBalance: jsonb('current_balance').$type<Record<string, number> | null>(),
  paidBalance: jsonb('paid_balance').$type<Record<string, number> | null>(),
  profile: jsonb('profile').$type<unknown>(),
  fpCreatedAt: tstz('fp_created_at'),
  ...projectionVersion()
})

export const leads = pgTable('leads', {
  id: fpId('id').primaryKey(),
  state: text('state'),
  email: text('email'),
  uid: text('uid'),
  promoterId: fpId('promoter_id'),
  promotionId: fpId('promotion_id'),
  planName: text('plan_name'),
  customerSince: tstz('customer_since'),
  cancelledAt: tstz('cancelled_at'),
  /** When the first payment happened (`lead_becomes_referral` / `new_customer`); the earliest wins. */
  firstPaymentAt: tstz('first_payment_at'),
  fpCreatedAt: tstz('fp_created_at'),
  ...projectionVersion()
}, (t) => [index('leads_promoter_idx').on(t.promoterId)])

export const rewards = pgTable('rewards', {
  id: fpId('id').primaryKey(),
  status: text('status'),
  amount: bigint('amount', { mode: 'number' }),
  unit: text('unit'),
  billingEventId: text('billing_event_id'),
  conversionAmount: bigint('conversion_amount', { mode: 'number' }),
  tierLevel: integer('tier_level'),
  promoterId: fpId('promoter_id'),
  leadId: fpId('lead_id'),
  fpCreatedAt: tstz('fp_created_at'),
  ...projectionVersion()
}, (t) => [index('rewards_promoter_idx').on(t.promoterId)])

/** v2 payouts (`payout.*`): a v2 commission marked fulfilled completes its payout. */
export const payouts = pgTable('payouts', {
  id: fpId('id').primaryKey(),
  status: text('status'),
  amount: bigint('amount', { mode: 'number' }),
  unit: text('unit'),
  promoterId: fpId('promoter_id'),
  campaignId: fpId('campaign_id'),
  paidAt: tstz('paid_at'),
  fpCreatedAt: tstz('fp_created_at'),
  ...projectionVersion()
}, (t) => [index('payouts_promoter_idx').on(t.promoterId)])

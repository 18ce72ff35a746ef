import { upsertLead, upsertPayout, upsertPromoter, upsertReward, type Tx, type UnstorableValue, type WebhookEvent } from '@fp-webhooks/db'
import { entityTypeOf, type V2WebhookEnvelope } from 'fastify-firstpromoter'
import { balance, date, obj, str, type Obj, type Version } from './payload-values.js'

/*
 * v2 events in the same projections as v1 (docs/firstpromoter-v2.md, "Projections"): promoters,
 * leads (v2 referrals), rewards (v2 commissions) and payouts. Rows are keyed on FirstPromoter's ids,
 * which an account keeps when it moves from v1 to v2, so one promoter stays one row. A row holds
 * the newest event's state: (v2 `timestamp`, inbox id) must beat the row's version, so arrival
 * order never matters and an older event never overwrites a newer one.
 */

const id = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return Number(v)
  return null
}
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : null)
/** A deleted entity keeps its row, marked so. */
const statusOf = (envelope: V2WebhookEnvelope, data: Obj, field: 'status' | 'state'): string | null =>
  envelope.action === 'deleted' || envelope.event_type.endsWith('.deleted') ? 'deleted' : str(data[field]) ?? str(data[field === 'state' ? 'status' : 'state'])

async function promoter (tx: Tx, envelope: V2WebhookEnvelope, p: Obj, v: Version): Promise<UnstorableValue[]> {
  const promoterId = id(p.id)
  if (promoterId === null) return []
  return upsertPromoter(tx, {
    id: promoterId,
    status: statusOf(envelope, p, 'status'),
    custId: str(p.cust_id),
    email: str(p.email),
    parentPromoterId: id(p.parent_promoter_id),
    defaultRefId: str(p.default_ref_id),
    earningsBalance: balance(p.earnings_balance),
    // The current examples have `balances` where the older had the three balances.
    currentBalance: balance(p.current_balance) ?? balance(p.balances),
    paidBalance: balance(p.paid_balance),
    profile: obj(p.profile) ?? null,
    fpCreatedAt: date(p.created_at) ?? date(p.joined_at),
    ...v
  })
}

/**
 * Applies one stored v2 event to the projections.
 * @returns whether it described an entity we project, and the values no column could hold
 */
export async function applyV2Projections (
  tx: Tx,
  event: WebhookEvent,
  envelope: V2WebhookEnvelope
): Promise<{ applied: boolean, unstorable: UnstorableValue[] }> {
  const data = obj(envelope.data)
  if (!data || data.test === true) return { applied: false, unstorable: [] }
  // The inbox id breaks ties between events of the same second: v2 event ids are UUIDs.
  const v: Version = { sourceAt: event.eventCreatedAt ?? event.receivedAt, sourceEventId: event.id }
  const entityId = id(data.id) ?? id(envelope.entity_id)
  const unstorable: UnstorableValue[] = []
  switch (entityTypeOf(envelope)) {
    case 'promoter':
      if (entityId === null) break
      unstorable.push(...await promoter(tx, envelope, { ...data, id: entityId }, v))
      return { applied: true, unstorable }
    case 'referral': {
      if (entityId === null) break
      const promoterId = id(obj(data.promoter)?.id) ?? id(data.promoter_id) ??
        id(obj(data.promoter_campaign)?.promoter_id)
      unstorable.push(...await upsertLead(tx, {
        id: entityId,
        state: statusOf(envelope, data, 'state'),
        email: str(data.email),
        uid: str(data.uid),
        promoterId,
        promotionId: null,
        planName: str(data.plan_name),
        customerSince: date(data.customer_since),
        cancelledAt: date(data.cancelled_at),
        fpCreatedAt: date(data.created_at),
        firstPaymentAt: date(data.customer_since),
        ...v
      }))
      return { applied: true, unstorable }
    }
    case 'commission': {
      if (entityId === null) break
      const campaign = obj(data.promoter_campaign)
      unstorable.push(...await upsertReward(tx, {
        id: entityId,
        status: statusOf(envelope, data, 'status'),
        amount: int(data.amount),
        unit: str(data.unit) ?? (str(data.currency) !== null ? 'cash' : null),
        billingEventId: null,
        conversionAmount: null,
        tierLevel: null,
        promoterId: id(data.promoter_id) ?? id(obj(data.promoter)?.id) ?? id(campaign?.promoter_id) ??
          id(obj(campaign?.promoter)?.id),
        leadId: id(obj(data.referral)?.id) ?? id(data.referral_id),
        fpCreatedAt: date(data.created_at),
        ...v
      }))
      return { applied: true, unstorable }
    }
    case 'payout': {
      // `payout.commissions.*` describe the payout's commissions, not the payout's state.
      if (entityId === null || envelope.event_type.startsWith('payout.commissions.')) break
      // Its nested promoter (id, email, name) is not projected: it would blank a full row's fields.
      const nested = obj(data.promoter)
      unstorable.push(...await upsertPayout(tx, {
        id: entityId,
        status: statusOf(envelope, data, 'status'),
        amount: int(data.amount),
        unit: str(data.unit),
        promoterId: id(data.promoter_id) ?? id(nested?.id),
        campaignId: id(obj(data.campaign)?.id) ?? id(data.campaign_id),
        paidAt: date(data.paid_at),
        fpCreatedAt: date(data.created_at),
        ...v
      }))
      return { applied: true, unstorable }
    }
  }
  return { applied: false, unstorable }
}

import {
  recordPromoterAcceptance,
  upsertLead,
  upsertPromoter,
  upsertReward,
  type LeadRow,
  type PromoterRow,
  type RewardRow,
  type Tx,
  type UnstorableValue,
  type WebhookEvent
} from '@fp-webhooks/db'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { V2WebhookEnvelopeSchema } from 'fastify-firstpromoter'
import { applyV2Projections } from './projections-v2.js'
import { balance, date, obj, str, type Obj, type Version } from './payload-values.js'

const id = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return Number(v)
  return null
}
const v2Envelope = TypeCompiler.Compile(V2WebhookEnvelopeSchema)
const FIRST_PAYMENT = new Set(['lead_becomes_referral', 'new_customer'])

/*
 * Each builder returns every versioned column (null when the event lacks it): a row is the state
 * of its newest event, never a merge of several, so the order of arrival cannot matter.
 */
function promoterRow (p: Obj, promoterId: number, v: Version): PromoterRow {
  return {
    id: promoterId,
    status: str(p.status),
    custId: str(p.cust_id),
    email: str(p.email),
    parentPromoterId: id(p.parent_promoter_id),
    defaultRefId: str(p.default_ref_id),
    earningsBalance: balance(p.earnings_balance),
    currentBalance: balance(p.current_balance),
    paidBalance: balance(p.paid_balance),
    profile: obj(p.profile) ?? null,
    fpCreatedAt: date(p.created_at),
    ...v
  }
}

function leadRow (
  l: Obj,
  leadId: number,
  v: Version,
  context: { promoterId?: number | null, promotionId?: number | null, firstPaymentAt?: Date | null }
): LeadRow {
  const promotion = obj(l.promotion)
  return {
    id: leadId,
    state: str(l.state) ?? str(l.status),
    email: str(l.email),
    uid: str(l.uid),
    promoterId: id(obj(l.promoter)?.id) ?? id(promotion?.promoter_id) ?? context.promoterId ?? null,
    promotionId: id(promotion?.id) ?? context.promotionId ?? null,
    planName: str(l.plan_name),
    customerSince: date(l.customer_since),
    cancelledAt: date(l.cancelled_at),
    fpCreatedAt: date(l.created_at),
    firstPaymentAt: context.firstPaymentAt ?? null,
    ...v
  }
}

function rewardRow (r: Obj, rewardId: number, v: Version): RewardRow {
  const amount = typeof r.amount === 'number' ? Math.trunc(r.amount) : null
  const conversion = typeof r.conversion_amount === 'number' ? Math.trunc(r.conversion_amount) : null
  return {
    id: rewardId,
    status: str(r.status),
    amount,
    unit: str(r.unit),
    billingEventId: str(r.event_id) ?? (typeof r.event_id === 'number' ? String(r.event_id) : null),
    conversionAmount: conversion,
    tierLevel: typeof r.tier_level === 'number' ? Math.trunc(r.tier_level) : null,
    promoterId: id(obj(r.promoter)?.id),
    leadId: id(obj(r.lead)?.id),
    fpCreatedAt: date(r.created_at),
    ...v
  }
}

export interface ProjectionResult {
  /** False when the event carries nothing to project (unknown type, v2, no usable ids). */
  applied: boolean
  /** Values stored as null because no column could hold them (a date in year 0, an amount of 1e20). */
  unstorable: UnstorableValue[]
}

/**
 * Applies one stored event to the promoters, leads, rewards (and, for v2, payouts) projections. A value that does
 * not fit its column never fails it: the row is written without it, and the result says which.
 */
export async function applyProjections (tx: Tx, event: WebhookEvent): Promise<ProjectionResult> {
  if (event.source === 'v2') {
    if (event.state === 'test' || !v2Envelope.Check(event.payload)) return { applied: false, unstorable: [] }
    return applyV2Projections(tx, event, event.payload)
  }
  const unstorable: UnstorableValue[] = []
  const applied = await project(tx, event, unstorable)
  return { applied, unstorable }
}

/** The promoter row of an event's `promoter` object, or null without a usable id. */
function promoterOf (p: unknown, v: Version): PromoterRow | null {
  const o = obj(p)
  const pid = id(o?.id)
  return o && pid !== null ? promoterRow(o, pid, v) : null
}

async function promoterFrom (tx: Tx, p: unknown, v: Version, unstorable: UnstorableValue[]): Promise<number | null> {
  const row = promoterOf(p, v)
  if (row) unstorable.push(...await upsertPromoter(tx, row))
  return row?.id ?? null
}

/** A v1 event's data and the version its rows get, or null when it has nothing to project. */
function v1Facts (event: WebhookEvent): { data: Obj, v: Version, eventId: number } | null {
  const eventId = id(event.eventId)
  const data = obj(obj(event.payload)?.data)
  if (event.source !== 'v1' || eventId === null || !data) return null
  return { data, eventId, v: { sourceAt: event.eventCreatedAt ?? event.receivedAt, sourceEventId: eventId } }
}

/**
 * What a v1 `fulfilment_pending` event projects: its promoter's row (null when it has none), as
 * `applyProjections` would write it; undefined for any other event. For writing many at once
 * (`upsertPromotersMarkingProcessed`).
 */
export function fulfilmentPromoter (event: WebhookEvent): PromoterRow | null | undefined {
  if (event.source !== 'v1' || event.eventType !== 'fulfilment_pending') return undefined
  const facts = v1Facts(event)
  return facts ? promoterOf(facts.data.promoter, facts.v) : null
}

async function project (tx: Tx, event: WebhookEvent, unstorable: UnstorableValue[]): Promise<boolean> {
  const facts = v1Facts(event)
  if (!facts) return false
  const { data, eventId, v } = facts

  switch (event.eventType) {
    case 'lead_signup':
    case 'lead_becomes_referral':
    case 'new_customer':
    case 'lead_cancelled': {
      const leadId = id(data.id)
      if (leadId === null) return false
      await promoterFrom(tx, data.promoter, v, unstorable)
      const firstPaymentAt = FIRST_PAYMENT.has(event.eventType) ? (date(data.customer_since) ?? v.sourceAt) : null
      unstorable.push(...await upsertLead(tx, leadRow(data, leadId, v, { firstPaymentAt })))
      return true
    }
    case 'promoter_signed_up':
    case 'promoter_signs_up':
      return (await promoterFrom(tx, data.promoter, v, unstorable)) !== null
    case 'promoter_accepted': {
      const pid = await promoterFrom(tx, data.promoter, v, unstorable)
      if (pid === null) return false
      await recordPromoterAcceptance(
        tx, pid, id(obj(data.campaign)?.id) ?? id(obj(data.promotion)?.campaign_id), v.sourceAt, eventId
      )
      return true
    }
    case 'reward_created': {
      const rewardId = id(data.id)
      if (rewardId === null) return false
      const promoterId = await promoterFrom(tx, data.promoter, v, unstorable)
      unstorable.push(...await upsertReward(tx, rewardRow(data, rewardId, v)))
      const lead = obj(data.lead)
      const leadId = id(lead?.id)
      if (lead && leadId !== null) {
        unstorable.push(...await upsertLead(
          tx, leadRow(lead, leadId, v, { promoterId, promotionId: id(obj(data.promotion)?.id) })
        ))
      }
      return true
    }
    case 'fulfilment_pending':
      return (await promoterFrom(tx, data.promoter, v, unstorable)) !== null
    default:
      return false
  }
}

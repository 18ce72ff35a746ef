/*
 * Whether a v2 delivery is a non-monetary commission becoming approved: the v2 counterpart of
 * `fulfilment_pending` (docs/firstpromoter-v2.md, "Which deliveries are approvals").
 */
import {
  changeOf,
  entityTypeOf,
  isNonMonetaryUnit,
  isV2TestDelivery,
  type NonMonetaryUnit,
  type V2WebhookEnvelope
} from './schemas-v2.js'

/** The party a commission rewards: the affiliate, or the customer they referred. */
export type V2Beneficiary = 'promoter' | 'referral'

/** What the payload says about the referred customer; null fields are unknown. */
export interface V2ReferralFacts {
  id: number | null
  /** The integrator's own user id for the customer. */
  uid: string | null
  email: string | null
}

/** How an approval was recognised. */
export type V2ApprovalTrigger =
  /** `commission.updated` (or any commission event) with `changes.status` `[x, "approved"]`. */
  | 'status_change'
  /** A `commission.approved` event whose data is not contradicted by another status. */
  | 'approved_event'
  /** `commission.created` already `approved` (a campaign that approves at once). */
  | 'created_approved'

/** A non-monetary commission that became approved: a fulfilment, keyed on `commissionId`. */
export interface V2CommissionApproval {
  approved: true
  commissionId: number
  trigger: V2ApprovalTrigger
  /** Null when the payload has no unit: the API must be asked (`missing` holds `unit`). */
  unit: NonMonetaryUnit | null
  /** A quantity in `unit` (500 points, 2 free months); null when absent or unreadable. */
  amount: number | null
  promoterId: number | null
  promoterEmail: string | null
  /** Null when the commission has no referral at all (a custom commission). */
  referral: V2ReferralFacts | null
  /**
   * Who is rewarded, when the payload says. The documented payloads never name the party, so
   * this is `promoter` only for a commission without a referral (it can reward no customer), else
   * null: the grant function decides from both parties' facts (the default is the promoter).
   */
  beneficiary: V2Beneficiary | null
  /**
   * What a grant needs that the payload lacks, to be read with `GET /commissions?ids[]=<id>`
   * before granting: `promoter` (no promoter id; the nested-referral shape), `referral` (a
   * referral id without its uid; the flat shape), `unit`, `amount`.
   */
  missing: Array<'promoter' | 'referral' | 'unit' | 'amount'>
  /** `missing.length > 0`. */
  needsLookup: boolean
}

export type V2NotApprovalReason =
  | 'test_delivery'
  | 'not_a_commission'
  | 'no_status_change'
  | 'denied'
  | 'not_approved'
  | 'monetary'
  | 'invalid_id'

export interface V2NotAnApproval {
  approved: false
  reason: V2NotApprovalReason
  /** The commission's id when it could be read. */
  commissionId: number | null
  /** A short explanation for logs; never carries personal data. */
  detail: string
}

export type V2CommissionDecision = V2CommissionApproval | V2NotAnApproval

const APPROVED = 'approved'
const DENIED = 'denied'

function idOf (value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value) && Number(value) > 0) return Number(value)
  return null
}

function amountOf (value: unknown): number | null {
  const n = typeof value === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null
}

function textOf (value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null
}

function record (value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null
}

function lower (value: unknown): string | null {
  return typeof value === 'string' ? value.trim().toLowerCase() : null
}

function no (reason: V2NotApprovalReason, commissionId: number | null, detail: string): V2NotAnApproval {
  return { approved: false, reason, commissionId, detail }
}

/**
 * Decides whether a v2 delivery is a non-monetary commission becoming approved, and if so
 * gathers what a grant needs. Pure: it reads only the envelope.
 *
 * An approval is any commission event whose `changes.status` is `[x, "approved"]` with x not
 * `approved` (`["pending", "approved"]` is the documented one; a re-approval after a denial counts
 * too), a `commission.approved` event, or a `commission.created` that is already approved. A
 * `denied` status (by change, by `commission.denied`, or in the data of those events) is
 * never one; nor is a monetary unit (`cash`), a test delivery, or any other event.
 * @param envelope - a delivery that passed `V2WebhookEnvelopeSchema`
 * @returns the approval's facts, or why it is not one
 */
export function commissionApproval (envelope: V2WebhookEnvelope): V2CommissionDecision {
  const data = envelope.data
  if (isV2TestDelivery(envelope)) return no('test_delivery', null, 'a dashboard test delivery')
  if (entityTypeOf(envelope) !== 'commission') return no('not_a_commission', null, `entity is ${entityTypeOf(envelope)}`)

  const commissionId = idOf(data.id) ?? idOf(envelope.entity_id)
  const type = envelope.event_type.toLowerCase()
  const dataStatus = lower(data.status)
  const statusChange = changeOf(envelope.changes, 'status')
  const to = statusChange === null ? null : lower(statusChange[1])
  const from = statusChange === null ? null : lower(statusChange[0])

  let trigger: V2ApprovalTrigger
  if (to === DENIED || type === 'commission.denied' || (statusChange === null && dataStatus === DENIED)) {
    return no('denied', commissionId, 'the commission was denied: nothing is owed')
  } else if (to === APPROVED && from !== APPROVED) {
    trigger = 'status_change'
  } else if (statusChange !== null) {
    return no('not_approved', commissionId, from === to ? 'the status did not change' : `status changed to ${String(to)}`)
  } else if (type === 'commission.approved' && (dataStatus === null || dataStatus === APPROVED)) {
    trigger = 'approved_event'
  } else if (type === 'commission.created' && dataStatus === APPROVED) {
    trigger = 'created_approved'
  } else if (type === 'commission.updated' || type === 'commission.approved') {
    return no('no_status_change', commissionId, 'no change of status to approved')
  } else {
    return no('not_approved', commissionId, `${type} is not an approval`)
  }

  if (commissionId === null) return no('invalid_id', null, 'the commission id is missing or not a positive integer')

  const unitText = textOf(data.unit)?.toLowerCase() ?? null
  let unit: NonMonetaryUnit | null = null
  if (unitText !== null) {
    if (!isNonMonetaryUnit(unitText)) {
      return no('monetary', commissionId, `unit ${unitText.slice(0, 40)} is paid by FirstPromoter, not granted here`)
    }
    unit = unitText
  }

  const campaign = record(data.promoter_campaign)
  const nestedPromoter = record(data.promoter) ?? record(campaign?.promoter)
  const promoterId = idOf(data.promoter_id) ?? idOf(nestedPromoter?.id) ?? idOf(campaign?.promoter_id)
  const promoterEmail = textOf(nestedPromoter?.email)

  const nestedReferral = record(data.referral)
  const referralId = idOf(nestedReferral?.id) ?? idOf(data.referral_id)
  const referral: V2ReferralFacts | null = nestedReferral === null && referralId === null
    ? null
    : { id: referralId, uid: textOf(nestedReferral?.uid), email: textOf(nestedReferral?.email) }

  const amount = amountOf(data.amount)
  const missing: V2CommissionApproval['missing'] = []
  if (promoterId === null) missing.push('promoter')
  if (referral !== null && referral.uid === null) missing.push('referral')
  if (unit === null) missing.push('unit')
  if (amount === null) missing.push('amount')

  return {
    approved: true,
    commissionId,
    trigger,
    unit,
    amount,
    promoterId,
    promoterEmail,
    referral,
    beneficiary: referral === null ? 'promoter' : null,
    missing,
    needsLookup: missing.length > 0
  }
}

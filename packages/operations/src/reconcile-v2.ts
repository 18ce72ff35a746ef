import { getFulfilment, recordV2Fulfilment, setApiClose, v2FulfilmentId, type Db, type V2FulfilmentFacts } from '@fp-webhooks/db'
import type { V2Client, V2Commission } from '@fp-webhooks/firstpromoter-api'
import { isNonMonetaryUnit } from 'fastify-firstpromoter'
import type { ReconcileLog } from './reconcile.js'

const idOf = (value: unknown): number | null => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value) && Number(value) > 0) return Number(value)
  return null
}
const textOf = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null)

/**
 * An API commission's grant facts, when it is an approved non-monetary one with a usable amount.
 * E-mails are not taken from the API: only a delivery's, which went through the receiver's
 * personal-data rule, are stored.
 */
export function factsFromApiCommission (c: V2Commission): V2FulfilmentFacts | null {
  const commissionId = idOf(c.id)
  const unit = typeof c.unit === 'string' ? c.unit.trim().toLowerCase() : ''
  const amount = typeof c.amount === 'number' && Number.isFinite(c.amount) && c.amount >= 0 ? c.amount : null
  if (commissionId === null || !isNonMonetaryUnit(unit) || amount === null) return null
  const campaign = c.promoter_campaign ?? null
  const promoterId = idOf(campaign?.promoter?.id) ?? idOf(campaign?.promoter_id)
  const referral = c.referral ? { id: idOf(c.referral.id), uid: textOf(c.referral.uid), email: null } : null
  return { commissionId, unit, amount, promoterId, promoterEmail: null, referral, party: referral === null ? 'promoter' : null }
}

export interface V2ReconcileReport {
  /** Approved commissions FirstPromoter lists as not yet fulfilled. */
  listed: number
  /** Never delivered (or never recorded): now recorded and queued for a grant. */
  recovered: number
  /** Known but not yet granted: queued again. */
  requeued: number
  /** Granted here, still unfulfilled there: closed again. */
  reclosed: number
  /** Monetary, or without an id or amount: not ours to grant. */
  skipped: number
}

/**
 * Grants and closes the approved non-monetary commissions FirstPromoter still lists as not
 * fulfilled (`filters[status]=approved&filters[fulfilled]=no`): approvals never delivered, or granted
 * while they could not be closed. Through the same fulfilment row and grant job as a delivery, so
 * a commission is still granted exactly once.
 */
export interface V2ReconcileDeps {
  db: Db
  log: ReconcileLog
  /** The v2 API's commissions list; nothing to do without it. */
  v2?: Pick<V2Client, 'listAllCommissions'>
  enqueueGrant: (id: number) => Promise<void>
  enqueueClose: (id: number) => Promise<void>
}

export async function reconcileV2 (deps: V2ReconcileDeps): Promise<V2ReconcileReport> {
  const report: V2ReconcileReport = { listed: 0, recovered: 0, requeued: 0, reclosed: 0, skipped: 0 }
  if (!deps.v2) return report
  for await (const commission of deps.v2.listAllCommissions({ status: 'approved', fulfilled: false })) {
    report.listed++
    const facts = factsFromApiCommission(commission)
    if (facts === null) {
      report.skipped++
      continue
    }
    const id = v2FulfilmentId(facts.commissionId)
    const existing = await getFulfilment(deps.db, id)
    if (!existing) {
      await recordV2Fulfilment(deps.db, facts, { source: 'reconcile' })
      await deps.enqueueGrant(id)
      report.recovered++
    } else if (existing.state === 'granted') {
      if (existing.apiClose !== 'pending') {
        await setApiClose(deps.db, id, 'pending')
        report.reclosed++
      }
      await deps.enqueueClose(id)
    } else if (existing.state !== 'failed') {
      await deps.enqueueGrant(id)
      report.requeued++
    }
  }
  deps.log.info(report, 'v2 reconcile finished')
  return report
}

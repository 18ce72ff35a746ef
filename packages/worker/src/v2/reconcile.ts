import { getFulfilment, recordV2Fulfilment, setApiClose, v2FulfilmentId } from '@fp-webhooks/db'
import type { WorkerDeps } from '../deps.js'
import { factsFromApiCommission } from './api.js'

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
export async function reconcileV2 (deps: Pick<WorkerDeps, 'db' | 'log' | 'v2' | 'enqueueGrant' | 'enqueueClose'>): Promise<V2ReconcileReport> {
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

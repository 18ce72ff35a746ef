import { getFulfilment, settleAnswer, setApiClose, upsertFulfilment, type Db } from '@fp-webhooks/db'
import { fulfilmentFacts, fulfilmentPendingCheck, type FulfilmentPendingData } from 'fastify-firstpromoter'
import type { Jobs } from '@fp-webhooks/queue'

/** Where reconciliation reads FirstPromoter's pending fulfilments from (the v1 payouts list). */
export interface PayoutSource {
  listPending: () => AsyncIterable<unknown>
}

/** The two calls reconciliation logs with; a pino logger fits. */
export interface ReconcileLog {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

export interface ReconcileDeps {
  db: Db
  log: ReconcileLog
  payouts: PayoutSource
  /** Through the queue package's enqueue policy: asking again always yields a job that runs. */
  jobs: Pick<Jobs, 'grant' | 'close'>
  /** Whether the workers close through FirstPromoter's API (credentials configured). */
  canCloseViaApi: boolean
}

export interface ReconcileReport {
  listed: number
  /** Fulfilments we had never received, now recorded and queued for a grant. */
  recovered: number
  /** Known but not yet granted: queued again. */
  requeued: number
  /** Granted on our side but still pending on FirstPromoter's: closed again through the API. */
  reclosed: number
  invalid: number
}

/**
 * Grants and closes the fulfilments FirstPromoter still lists as pending: deliveries lost in an
 * outage, or answered while we could not close them. Everything goes through the normal grant
 * job (one per fulfilment id), so a fulfilment is still granted exactly once.
 */
export async function reconcile (deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { listed: 0, recovered: 0, requeued: 0, reclosed: 0, invalid: 0 }
  for await (const payout of deps.payouts.listPending()) {
    report.listed++
    if (!fulfilmentPendingCheck(payout)) {
      report.invalid++
      deps.log.warn({ payoutId: (payout as { id?: unknown })?.id }, 'reconcile: payout lacks id, amount, unit or promoter; skipped')
      continue
    }
    const facts = fulfilmentFacts(payout as FulfilmentPendingData, false)
    const existing = await getFulfilment(deps.db, facts.id)
    if (!existing) {
      await upsertFulfilment(deps.db, facts, { source: 'reconcile', answeredPending: true })
      await deps.jobs.grant(facts.id)
      report.recovered++
    } else if (existing.state === 'granted') {
      if (deps.canCloseViaApi && existing.apiClose !== 'pending') {
        await setApiClose(deps.db, facts.id, 'pending')
        await deps.jobs.close(facts.id)
        report.reclosed++
      }
    } else if (existing.state !== 'failed') {
      // FirstPromoter still sees it pending: once granted, it must be closed.
      await settleAnswer(deps.db, facts.id)
      await deps.jobs.grant(facts.id)
      report.requeued++
    }
  }
  deps.log.info(report, 'reconcile finished')
  return report
}

import { listStaleCloses, listStalePendingEvents, listStalePendingFulfilments, type Db } from '@fp-webhooks/db'
import type { Logger } from 'pino'

export interface SweepReport { events: number, fulfilments: number, closes: number }

export interface SweepDeps {
  db: Db
  log: Logger
  enqueueEvent: (inboxId: number, eventType: string) => Promise<void>
  enqueueGrant: (id: number) => Promise<void>
  enqueueClose: (id: number) => Promise<void>
  /** Whether granted fulfilments are closed through FirstPromoter's API (a closer is configured). */
  canCloseViaApi: boolean
}

/**
 * The outbox sweeper: inbox rows and fulfilments still pending after `staleAfterMs` were stored
 * while the queue was unreachable, or their job was lost (Redis came back empty); granted
 * fulfilments whose API close is due after `closeGraceMs` are closes nobody sent (the answer was
 * never noted as 200, or the close job was lost). Enqueuing them again is harmless (job ids are
 * derived from the row, a live job is left alone), so every worker process sweeps.
 */
export async function sweep (
  deps: SweepDeps,
  options: { staleAfterMs: number, closeGraceMs?: number, batch?: number }
): Promise<SweepReport> {
  const batch = options.batch ?? 1000
  const events = await listStalePendingEvents(deps.db, options.staleAfterMs, batch)
  for (const e of events) await deps.enqueueEvent(e.id, e.eventType)
  const fulfilments = await listStalePendingFulfilments(deps.db, options.staleAfterMs, batch)
  for (const f of fulfilments) await deps.enqueueGrant(f.id)
  // The grace must outlast an answer (wait for the grant, settle, note): FirstPromoter's 15 s.
  const closes = deps.canCloseViaApi
    ? await listStaleCloses(deps.db, options.closeGraceMs ?? options.staleAfterMs, batch)
    : []
  for (const c of closes) await deps.enqueueClose(c.id)
  const report = { events: events.length, fulfilments: fulfilments.length, closes: closes.length }
  if (report.events + report.fulfilments + report.closes > 0) deps.log.info(report, 'sweep enqueued stale work')
  return report
}

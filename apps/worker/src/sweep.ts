import { listStalePendingEvents, listStalePendingFulfilments, type Db } from '@fp-webhooks/db'
import type { Logger } from 'pino'

export interface SweepReport { events: number, fulfilments: number }

/**
 * The outbox sweeper: inbox rows and fulfilments still pending after `staleAfterMs` were stored
 * while the queue was unreachable, or their job was lost. Enqueuing them again is harmless (job
 * ids are derived from the row), so several workers may sweep at once.
 */
export async function sweep (
  deps: { db: Db, log: Logger, enqueueEvent: (inboxId: number, eventType: string) => Promise<void>, enqueueGrant: (id: number) => Promise<void> },
  options: { staleAfterMs: number, batch?: number }
): Promise<SweepReport> {
  const batch = options.batch ?? 1000
  const events = await listStalePendingEvents(deps.db, options.staleAfterMs, batch)
  for (const e of events) await deps.enqueueEvent(e.id, e.eventType)
  const fulfilments = await listStalePendingFulfilments(deps.db, options.staleAfterMs, batch)
  for (const f of fulfilments) await deps.enqueueGrant(f.id)
  const report = { events: events.length, fulfilments: fulfilments.length }
  if (report.events + report.fulfilments > 0) deps.log.info(report, 'sweep enqueued stale work')
  return report
}

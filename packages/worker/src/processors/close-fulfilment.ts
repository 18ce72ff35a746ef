import { UnrecoverableError, type Job } from 'bullmq'
import { getFulfilment, setApiClose } from '@fp-webhooks/db'
import type { CloseJobData } from '@fp-webhooks/queue'
import { isPermanentApiError } from '../closer.js'
import type { WorkerDeps } from '../deps.js'
import { isFinalAttempt } from './attempts.js'
import { closeV2Commissions } from '../v2/close-commissions.js'

/**
 * Closes a granted fulfilment through FirstPromoter's API: it was answered "pending" and would
 * otherwise wait for the next periodic check. An error that retrying cannot fix (a rejected key,
 * an unknown payout) is recorded on the fulfilment once, with no retry storm.
 */
export async function processCloseFulfilment (job: Job<CloseJobData>, deps: WorkerDeps): Promise<'closed' | 'skipped'> {
  const id = job.data.fulfilmentId
  // A v2 commission's close job closes every v2 close due, in batches.
  if (id < 0) {
    const report = await closeV2Commissions(deps, { final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) })
    return report.closed > 0 ? 'closed' : 'skipped'
  }
  const f = await getFulfilment(deps.db, id)
  if (!f || f.state !== 'granted' || f.apiClose !== 'pending' || !deps.closer) return 'skipped'
  try {
    await deps.closer.close(id)
  } catch (err) {
    const message = (err as Error).message
    const final = isPermanentApiError(err) || isFinalAttempt(job)
    await setApiClose(deps.db, id, final ? 'failed' : 'pending', message)
    deps.log.warn({ fulfilmentId: id, api: deps.closer.api, final, err: { message } }, 'could not close the fulfilment on FirstPromoter')
    if (isPermanentApiError(err)) throw new UnrecoverableError(message)
    throw err
  }
  await setApiClose(deps.db, id, 'done')
  deps.log.info({ fulfilmentId: id, api: deps.closer.api }, 'fulfilment closed on FirstPromoter')
  return 'closed'
}

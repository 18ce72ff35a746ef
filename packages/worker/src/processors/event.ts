import { UnrecoverableError, type Job } from 'bullmq'
import { errorText, getEvent, markEventAttemptFailed, markEventProcessed } from '@fp-webhooks/db'
import type { EventJobData } from '@fp-webhooks/queue'
import { documentedShapeErrors } from 'fastify-firstpromoter'
import type { WorkerDeps } from '../deps.js'
import { isFinalAttempt } from './attempts.js'
import { toFirstPromoterEvent } from '../events.js'
import { applyProjections } from '../projections.js'
import { fulfilV2Approval } from '../v2/approvals.js'

/**
 * Processes one stored event: projections first (one transaction, idempotent), then the
 * integrator's typed handlers. A throwing handler makes the job retry, so handlers must tolerate
 * running again; the projections do.
 */
export async function processEvent (job: Job<EventJobData>, deps: WorkerDeps): Promise<'processed' | 'skipped'> {
  const { inboxId } = job.data
  const event = await getEvent(deps.db, inboxId)
  if (!event) throw new UnrecoverableError(`inbox row ${inboxId} does not exist`)
  // A test delivery is never processed, whoever queued it (a replay, an operator).
  if (event.state === 'processed' || event.state === 'test') return 'skipped'
  if (event.source === 'v1' && event.attempts === 0) {
    const shapeErrors = documentedShapeErrors(event.payload)
    if (shapeErrors.length > 0) deps.log.warn({ inboxId, eventType: event.eventType, eventId: event.eventId, errors: shapeErrors }, 'event data differs from the documented shape; processed as received')
  }
  try {
    // Before the projections: an approval is a reward owed, and the grant is what must not wait.
    await fulfilV2Approval(deps, event)
    const { unstorable } = await deps.db.transaction((tx) => applyProjections(tx, event))
    if (unstorable.length > 0) {
      // Columns and reasons only: the values themselves may be personal data.
      deps.log.warn({ inboxId, eventType: event.eventType, eventId: event.eventId, columns: unstorable.map((u) => `${u.column}: ${u.reason}`) }, 'event values no column can hold were stored as null')
    }
    const handlers = deps.handlers.handlersFor(event.eventType)
    if (handlers.length > 0) {
      const typed = toFirstPromoterEvent(event)
      for (const handler of handlers) await handler(typed)
    }
    await markEventProcessed(deps.db, inboxId)
    return 'processed'
  } catch (err) {
    const final = isFinalAttempt(job)
    // Never the error's own message: a failed query's repeats its parameters (e-mail addresses).
    const reason = errorText(err)
    await markEventAttemptFailed(deps.db, inboxId, reason, final)
    deps.log.warn({ inboxId, eventType: event.eventType, final, err: { message: reason } }, 'event processing failed')
    // BullMQ keeps the message in Redis (the job's failedReason) and logs it: the safe text too.
    throw err instanceof UnrecoverableError ? new UnrecoverableError(reason) : new Error(reason, { cause: err })
  }
}

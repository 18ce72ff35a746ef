import { getEvent, getFulfilmentStatus, resetEvent, resetFailed, type Db } from '@fp-webhooks/db'
import { EVENT_JOB_OPTIONS, GRANT_JOB_OPTIONS, JOB, eventJobId, grantJobId, requeue, type BullDispatcher } from '@fp-webhooks/queue'

export interface ReplayResult {
  eventId: number
  eventType: string
  /** The event job: queued again, or still waiting from before. */
  event: 'queued' | 'already-queued'
  /** For fulfilment_pending: what happened to its grant. */
  fulfilment?: { id: number, state: string, grant: 'queued' | 'already-queued' | 'not-needed' }
}

/**
 * Replays a stored event through the normal path: its processing job runs again (projections are
 * idempotent, handlers must be), and for a fulfilment the grant job is queued again unless it is
 * granted already. A replay can never grant twice: the ledger row is unique per fulfilment.
 * @returns null when no inbox row has that id
 */
export async function replayEvent (db: Db, queue: BullDispatcher, inboxId: number): Promise<ReplayResult | null> {
  const event = await getEvent(db, inboxId)
  if (!event) return null
  await resetEvent(db, inboxId)
  const result: ReplayResult = {
    eventId: inboxId,
    eventType: event.eventType,
    event: await requeue(queue.queues.events, JOB.event, { inboxId, eventType: event.eventType }, { ...EVENT_JOB_OPTIONS, jobId: eventJobId(inboxId) })
  }
  const fulfilmentId = event.eventType === 'fulfilment_pending' ? Number((event.payload as { data?: { id?: unknown } } | null)?.data?.id) : NaN
  if (Number.isSafeInteger(fulfilmentId)) {
    const status = await getFulfilmentStatus(db, fulfilmentId)
    if (status) {
      const grant = status.state === 'pending' || status.state === 'granting'
        ? await requeue(queue.queues.grants, JOB.grant, { fulfilmentId }, { ...GRANT_JOB_OPTIONS, jobId: grantJobId(fulfilmentId) })
        : 'not-needed'
      result.fulfilment = { id: fulfilmentId, state: status.state, grant }
    }
  }
  return result
}

/**
 * An operator's retry of a failed fulfilment: back to pending, grant job queued again.
 * @returns null when unknown; `retried: false` when it was not failed
 */
export async function retryFulfilment (db: Db, queue: BullDispatcher, id: number) {
  const status = await getFulfilmentStatus(db, id)
  if (!status) return null
  if (!await resetFailed(db, id)) return { id, retried: false, state: status.state }
  await requeue(queue.queues.grants, JOB.grant, { fulfilmentId: id }, { ...GRANT_JOB_OPTIONS, jobId: grantJobId(id) })
  return { id, retried: true, state: 'pending' as const }
}

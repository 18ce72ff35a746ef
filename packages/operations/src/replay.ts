import { getEvent, getFulfilmentStatus, resetEvent, resetFailed, type Db } from '@fp-webhooks/db'
import type { Jobs } from '@fp-webhooks/queue'

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
export async function replayEvent (db: Db, jobs: Pick<Jobs, 'event' | 'grant'>, inboxId: number): Promise<ReplayResult | null> {
  const event = await getEvent(db, inboxId)
  if (!event) return null
  await resetEvent(db, inboxId)
  const result: ReplayResult = {
    eventId: inboxId,
    eventType: event.eventType,
    event: await jobs.event(inboxId, event.eventType)
  }
  const fulfilmentId = event.eventType === 'fulfilment_pending' ? Number((event.payload as { data?: { id?: unknown } } | null)?.data?.id) : NaN
  if (Number.isSafeInteger(fulfilmentId)) {
    const status = await getFulfilmentStatus(db, fulfilmentId)
    if (status) {
      const grant = status.state === 'pending' || status.state === 'granting' ? await jobs.grant(fulfilmentId) : 'not-needed'
      result.fulfilment = { id: fulfilmentId, state: status.state, grant }
    }
  }
  return result
}

export type RetryResult =
  | { id: number, retried: true, state: 'pending' }
  | { id: number, retried: false, state: string }

/**
 * An operator's retry, once its cause is fixed: a failed fulfilment goes back to pending and its
 * grant is queued again; a pending one (its grant failing transiently, waiting out its backoff) has
 * its grant run now.
 * @returns null when unknown; `retried: false` when it is granted (nothing to retry)
 */
export async function retryFulfilment (db: Db, jobs: Pick<Jobs, 'grantNow'>, id: number): Promise<RetryResult | null> {
  const status = await getFulfilmentStatus(db, id)
  if (!status) return null
  if (status.state === 'granted') return { id, retried: false, state: status.state }
  if (status.state === 'failed' && !await resetFailed(db, id)) {
    // Granted or reset by someone else meanwhile.
    return { id, retried: false, state: (await getFulfilmentStatus(db, id))?.state ?? status.state }
  }
  await jobs.grantNow(id)
  return { id, retried: true, state: 'pending' }
}

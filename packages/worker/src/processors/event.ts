import { UnrecoverableError, type Job } from 'bullmq'
import { errorText, getEvent, getEvents, markEventAttemptFailed, markEventProcessed, markEventsProcessed, upsertPromotersMarkingProcessed, type WebhookEvent } from '@fp-webhooks/db'
import type { EventJobData } from '@fp-webhooks/queue'
import { documentedShapeErrors } from 'fastify-firstpromoter'
import type { WorkerDeps } from '../deps.js'
import { isFinalAttempt } from './attempts.js'
import { toFirstPromoterEvent } from '../events.js'
import { applyProjections, fulfilmentPromoter } from '../projections.js'
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
  try {
    await processStoredEvent(deps, event)
    return 'processed'
  } catch (err) {
    const reason = await recordFailure(deps, event, err, isFinalAttempt(job))
    // BullMQ keeps the message in Redis (the job's failedReason) and logs it: the safe text too.
    throw err instanceof UnrecoverableError ? new UnrecoverableError(reason) : new Error(reason, { cause: err })
  }
}

export interface CarriedEventsOptions {
  /** Most rows in one batch. Default 100. */
  maxBatch?: number
  /**
   * How long a row waits for others before its batch goes. Default 20 ms: nobody waits on it (the
   * grant job has announced its outcome already), and a batch of many costs little more than one.
   */
  maxWaitMs?: number
  /** Rows waiting beyond which a grant job waits for its own row to be processed. Default 1,000. */
  maxWaiting?: number
}

export const DEFAULT_CARRIED_MAX_BATCH = 100
export const DEFAULT_CARRIED_MAX_WAIT_MS = 20
export const DEFAULT_CARRIED_MAX_WAITING = 1000

/**
 * The inbox rows grant jobs carry (the delivery that recorded each fulfilment, queued with no event
 * job of its own), each processed once, at its job's first run whatever the grant does. The rows of
 * `maxWaitMs` go together: one read, one transaction (projections and the "processed" mark), one
 * commit. A batch that fails, or rows of a type with handlers, are processed one by one
 * (`processCarriedEvent`).
 *
 * The job does not wait for its row (unless `maxWaiting` rows already wait: that bounds the memory
 * and slows the jobs down to what Postgres takes). A row that a crash leaves unprocessed is still
 * `pending` in the inbox: the sweeper queues an event job for it. `flush()` processes every waiting
 * row now; the worker's `close()` calls it once its jobs are done.
 * @returns `process(inboxId)`, resolved once the row is taken (never rejects), and `flush()`
 */
export function createCarriedEvents (deps: WorkerDeps, options: CarriedEventsOptions = {}) {
  const maxBatch = options.maxBatch ?? DEFAULT_CARRIED_MAX_BATCH
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_CARRIED_MAX_WAIT_MS
  const maxWaiting = options.maxWaiting ?? DEFAULT_CARRIED_MAX_WAITING
  let waiting: Array<{ inboxId: number, done: () => void }> = []
  let running: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined

  const send = () => {
    clearTimeout(timer)
    timer = undefined
    const batch = waiting.slice(0, maxBatch)
    waiting = waiting.slice(maxBatch)
    // processCarriedBatch never rejects
    running = processCarriedBatch(deps, batch.map((b) => b.inboxId)).then(() => {
      for (const b of batch) b.done()
      running = undefined
      schedule()
    })
  }
  function schedule () {
    if (running || waiting.length === 0) return
    // A backlog goes at once too: its jobs are waiting for it.
    if (waiting.length >= maxBatch || waiting.length > maxWaiting) send()
    else timer ??= setTimeout(send, maxWaitMs)
  }

  return {
    process (inboxId: number): Promise<void> {
      const processed = new Promise<void>((resolve) => { waiting.push({ inboxId, done: resolve }) })
      const backlog = waiting.length > maxWaiting
      schedule()
      return backlog ? processed : Promise.resolve()
    },
    async flush (): Promise<void> {
      const busy = () => running !== undefined || waiting.length > 0
      while (busy()) {
        if (!running) send()
        await running
      }
    }
  }
}

async function processCarriedBatch (deps: WorkerDeps, ids: readonly number[]): Promise<void> {
  const oneByOne = async () => { for (const inboxId of ids) await processCarriedEvent(deps, inboxId) }
  try {
    // Tried already (an earlier run of the grant job, or an event job the sweeper queued): skipped.
    const events = (await getEvents(deps.db, ids)).filter((e) => e.state === 'pending' && e.attempts === 0)
    if (events.length === 0) return
    // Handlers run after the projections' commit, and may fail alone.
    if (events.some((e) => e.source !== 'v1' || deps.handlers.handlersFor(e.eventType).length > 0)) return await oneByOne()
    for (const event of events) warnOddShape(deps, event)
    const promoters = events.map(fulfilmentPromoter)
    if (promoters.every((p) => p !== undefined)) {
      // Only promoters to write (carried rows are `fulfilment_pending` deliveries): one statement.
      const unstorable = await upsertPromotersMarkingProcessed(deps.db, promoters, events.map((e) => e.id))
      events.forEach((event, i) => warnUnstorable(deps, event, unstorable[i]!))
      return
    }
    const results = await deps.db.transaction(async (tx) => {
      const applied = []
      for (const event of events) applied.push(await applyProjections(tx, event))
      await markEventsProcessed(tx, events.map((e) => e.id))
      return applied
    })
    events.forEach((event, i) => warnUnstorable(deps, event, results[i]!.unstorable))
  } catch {
    await oneByOne() // a row that fails fails alone
  }
}

/**
 * One carried row on its own: a failure is handed to an event job, which retries it as any other;
 * if that cannot be queued either, the row is left pending (with its error) for the sweeper.
 */
async function processCarriedEvent (deps: WorkerDeps, inboxId: number): Promise<void> {
  let event: WebhookEvent | undefined
  try {
    event = await getEvent(deps.db, inboxId)
    if (!event || event.state !== 'pending' || event.attempts > 0) return
    await processStoredEvent(deps, event)
  } catch (err) {
    if (event) await recordFailure(deps, event, err, false).catch(() => {})
    await deps.enqueueEvent(inboxId, event?.eventType ?? 'fulfilment_pending').catch((queueErr: Error) => {
      deps.log.warn({ inboxId, err: { message: queueErr.message } }, 'could not queue the processing of a grant\'s event; left for the sweeper')
    })
  }
}

function warnOddShape (deps: WorkerDeps, event: WebhookEvent): void {
  if (event.source !== 'v1' || event.attempts !== 0) return
  const shapeErrors = documentedShapeErrors(event.payload)
  if (shapeErrors.length > 0) deps.log.warn({ inboxId: event.id, eventType: event.eventType, eventId: event.eventId, errors: shapeErrors }, 'event data differs from the documented shape; processed as received')
}

function warnUnstorable (
  deps: WorkerDeps,
  event: WebhookEvent,
  unstorable: ReadonlyArray<{ column: string, reason: string }>
): void {
  if (unstorable.length === 0) return
  // Columns and reasons only: the values themselves may be personal data.
  deps.log.warn({ inboxId: event.id, eventType: event.eventType, eventId: event.eventId, columns: unstorable.map((u) => `${u.column}: ${u.reason}`) }, 'event values no column can hold were stored as null')
}

/** Projections, then handlers, then the row marked processed; throws what failed. */
async function processStoredEvent (deps: WorkerDeps, event: WebhookEvent): Promise<void> {
  const inboxId = event.id
  warnOddShape(deps, event)
  // Before the projections: an approval is a reward owed, and the grant is what must not wait.
  await fulfilV2Approval(deps, event)
  const handlers = deps.handlers.handlersFor(event.eventType)
  // With no handler to run after them, the projections and the mark commit together: one commit.
  const { unstorable } = await deps.db.transaction(async (tx) => {
    const applied = await applyProjections(tx, event)
    if (handlers.length === 0) await markEventProcessed(tx, inboxId)
    return applied
  })
  warnUnstorable(deps, event, unstorable)
  if (handlers.length === 0) return
  const typed = toFirstPromoterEvent(event)
  for (const handler of handlers) await handler(typed)
  await markEventProcessed(deps.db, inboxId)
}

/** Notes the failed attempt on the row and logs it. @returns the error's safe text */
async function recordFailure (deps: WorkerDeps, event: WebhookEvent, err: unknown, final: boolean): Promise<string> {
  // Never the error's own message: a failed query's repeats its parameters (e-mail addresses).
  const reason = errorText(err)
  await markEventAttemptFailed(deps.db, event.id, reason, final)
  deps.log.warn({ inboxId: event.id, eventType: event.eventType, final, err: { message: reason } }, 'event processing failed')
  return reason
}

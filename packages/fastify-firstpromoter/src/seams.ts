/*
 * The plugin owns HTTP and the protocol; it owns no tables and no queues. A team plugs its storage
 * and its job queue in through these two interfaces (the repo ships Postgres and BullMQ ones).
 */

export type FulfilmentState = 'pending' | 'granting' | 'granted' | 'failed'

/** Who and what a fulfilment rewards, taken from `fulfilment_pending.data`. */
export interface FulfilmentFacts {
  /** FirstPromoter's fulfilment id (`data.id`, a v1 payout id). */
  id: number
  unit: string
  amount: number
  /** `cust:<cust_id>` when FirstPromoter knows the integrator's user id, else `promoter:<id>`. */
  beneficiary: string
  promoterId: number | null
  custId: string | null
  promoterEmail: string | null
}

/** A delivery that passed the secret and envelope checks, already redacted. */
export interface Delivery {
  source: 'v1' | 'v2'
  eventId: string
  eventType: string
  eventCreatedAt: Date | null
  /** Set when events with different ids mean one thing (the two "first payment" events of a lead). */
  dedupeKey: string | null
  payload: unknown
  fulfilment?: FulfilmentFacts
  /**
   * A v2 test delivery (`"data": {"test": true}`): the store records it as a test (the Postgres
   * store's inbox `state` is `test`), never to be processed; the plugin queues no job for it.
   */
  test?: boolean
}

export interface FulfilmentStatus {
  id: number
  state: FulfilmentState
  failureReason: string | null
}

/** What `settleAnswer` may note with the settle: the delivery answered, and the latest time to note it. */
export interface SettleNote {
  eventId: string
  noteBy: Date
}

/** What `settleAnswer` read, and whether it also noted the answer (then `noteAnswer` is not called for it). */
export interface SettledAnswer extends FulfilmentStatus {
  noted?: boolean
}

export interface RecordResult {
  /** The inbox row, or null when the delivery was a duplicate. */
  inboxId: number | null
  duplicate: boolean
  fulfilment?: FulfilmentStatus
  /**
   * True when this delivery recorded the fulfilment for the first time: no grant job can exist for
   * it yet, so the dispatcher may add one without looking (optional; false when unknown).
   */
  fulfilmentCreated?: boolean
  /**
   * True when the store queued no processing for this inbox row (with `fulfilmentCreated` only): the
   * plugin then passes `inboxId` to `enqueueGrant`, whose job processes the row, and queues no event
   * job for it. One job per new fulfilment instead of two. Optional; a store that leaves it unset
   * gets an event job as for any delivery.
   */
  processedWithGrant?: boolean
}

export interface QuarantineEntry {
  reason: string
  statusCode: number
  details: unknown
  contentType: string | null
  bodySize: number
  /** Secrets already scrubbed; null when the body was never read (too large). */
  body: string | null
  bodyTruncated: boolean
}

/** An answer the route gave FirstPromoter for a fulfilment, as `noteAnswer` records it. */
export interface FulfilmentAnswerNote {
  fulfilmentId: number
  /** The delivery it answered (a re-fire has its own event id). */
  eventId: string
  statusCode: number
  /** Why it failed, for a 422; else null. */
  reason: string | null
}

export interface RecordOptions {
  /**
   * Aborted when the plugin stops waiting for `record` and answers 503. A write not yet sent
   * should be abandoned; one already sent may commit, whole (FirstPromoter's retry is deduped).
   */
  signal?: AbortSignal
}

export interface FirstPromoterStore {
  /**
   * Stores the delivery durably (inbox row, deduped on the event id and `dedupeKey`) and, for a
   * fulfilment, upserts it keyed on its id, in one transaction. Must have committed when it resolves.
   * A new fulfilment must be kept as "FirstPromoter has not been told it is done" from this
   * transaction on, until `noteAnswer` notes a 200 for it: everything after `record` may fail (the
   * answer may be 202 although nothing else could be written), so that if it is granted later it is
   * still closed through FirstPromoter's API.
   * @throws when storage is unreachable (the plugin answers 503)
   */
  record: (delivery: Delivery, options?: RecordOptions) => Promise<RecordResult>
  /** Keeps a rejected body for a human. Best effort: the plugin logs a failure and answers anyway. */
  quarantine: (entry: QuarantineEntry) => Promise<void>
  /**
   * Reads the fulfilment's state for the answer and, when it is not yet granted or failed, notes
   * atomically that FirstPromoter is being told "pending", so that a grant committing after this
   * read knows it must close the fulfilment through the API. Waits for a grant in progress to commit.
   * With `answer`, a store may also append to the history, in the same write, the answer the state
   * implies (200 granted, 422 failed, 202 otherwise) as `noteAnswer` would, and return `noted: true`:
   * one write instead of two. Only if the write happens before `answer.noteBy` (half the plugin's
   * `storeTimeoutMs` from the call): one that comes later may be one the plugin gave up on, answering
   * 202 and noting that itself, so it must note nothing (the store's clock decides; keep it in sync).
   */
  settleAnswer: (id: number, answer?: SettleNote) => Promise<SettledAnswer | null>
  /**
   * Appends to the fulfilment's answer history; for a 200, also notes that FirstPromoter closes the
   * fulfilment itself (no API close needed). Called once the answer is decided, not awaited by the
   * answer: a store should retry a failed write for a while (idempotently) and reject only when it
   * gives up; the plugin then logs it.
   */
  noteAnswer: (note: FulfilmentAnswerNote) => Promise<void>
  /**
   * Optional: writes what the store holds back (notes it batches) and resolves once written. The
   * plugin calls it when the server closes, before the hooks of the plugins it was registered in
   * (where a team closes its database pool).
   */
  flush?: () => Promise<void>
}

export interface FirstPromoterDispatcher {
  /** Queues the processing of an ordinary event. Enqueuing the same inbox row twice is harmless. */
  enqueueEvent: (job: { inboxId: number, eventType: string }) => Promise<void>
  /**
   * Queues the grant of a fulfilment, with a job id derived from the fulfilment id. `unit` and
   * `amount` (from the delivery) are for showing the job; the grant reads the stored fulfilment.
   * `created`: the store has just recorded the fulfilment (`RecordResult.fulfilmentCreated`).
   * `inboxId`: the inbox row of the delivery, when its processing rides on this grant
   * (`RecordResult.processedWithGrant`): the job must process it (or queue it) whatever the grant's
   * outcome; if the job is lost, the row is still pending in the store, for its sweeper.
   * `ticket`: a token unique to this request; a dispatcher that can tell when the job it queued
   * with it has committed the grant keeps it with the job, for `waitForGrant`.
   */
  enqueueGrant: (job: {
    fulfilmentId: number, unit?: string, amount?: number, created?: boolean, inboxId?: number, ticket?: string
  }) => Promise<void>
  /**
   * Resolves when the fulfilment's grant job has finished (either way) or after `timeoutMs`,
   * whichever is first. Resolves `granted` only when the job queued with `ticket` has committed
   * the grant: the plugin then answers 200 without reading the store (and notes the answer with
   * `noteAnswer`). Anything else (nothing, a job queued by someone else, a failure) and the plugin
   * reads the outcome from the store (`settleAnswer`).
   */
  waitForGrant: (fulfilmentId: number, timeoutMs: number, ticket?: string) => Promise<void | 'granted'>
}

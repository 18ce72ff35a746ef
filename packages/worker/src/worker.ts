import { Queue, UnrecoverableError, Worker, type Job, type Processor } from 'bullmq'
import type { Db } from '@fp-webhooks/db'
import {
  DEFAULT_PREFIX,
  EVENTS_QUEUE,
  GRANTS_QUEUE,
  JOB,
  MAINTENANCE_QUEUE,
  announceGrantSettled,
  createJobs,
  createProducerConnection,
  createWorkerConnection,
  grantRetryDelay,
  type GrantJobData,
  type GrantRetryOptions
} from '@fp-webhooks/queue'
import { pino, type Logger } from 'pino'
import { createV2Client } from '@fp-webhooks/firstpromoter-api'
import { createFulfilmentCloser, type ApiCredentials } from './closer.js'
import type { WorkerDeps } from './deps.js'
import type { FirstPromoterDefinition } from './definition.js'
import { DEFAULT_LEDGER_UNITS, type GrantFunctions } from './grants.js'
import { createHandlers, type Handlers } from './handlers.js'
import { runEvery } from './periodic.js'
import { processCloseFulfilment } from './processors/close-fulfilment.js'
import { createCarriedEvents, processEvent, type CarriedEventsOptions } from './processors/event.js'
import { processGrant, type GrantResult } from './processors/grant.js'
import { reconcile, reconcileV2, type PayoutSource, type ReconcileReport, type V2ReconcileReport } from '@fp-webhooks/operations'
import { startRelay } from './relay.js'
import { sweep } from './processors/sweep.js'
import type { V2CloseOptions, V2CommissionApi } from './v2/api.js'

export const DEFAULT_SWEEP_INTERVAL_MS = 30_000
export const DEFAULT_STALE_AFTER_MS = 30_000
export const DEFAULT_PAUSE_RECHECK_MS = 60_000

export interface CreateWorkerOptions {
  db: Db
  redisUrl: string
  /** BullMQ key prefix; must match the api's. Default `fpw`. */
  prefix?: string
  logger?: Logger
  /**
   * The integration: grant functions and event handlers, as the module FP_DEFINITION_MODULE names
   * exports them. `grants` below, when given too, override its grants per unit; `handlers` replaces its handlers.
   */
  definition?: FirstPromoterDefinition
  /** Grant functions by unit; they replace the built-in ledger grant for their unit. */
  grants?: GrantFunctions
  /** Units the built-in ledger grants when no function is given. Default free_months, credits, points. */
  ledgerUnits?: readonly string[]
  /** Typed event handlers, from `createHandlers()` (prefer `definition`). */
  handlers?: Handlers
  /** FirstPromoter API credentials: enable closing answered-pending fulfilments and reconciliation. */
  api?: ApiCredentials
  /** Overrides the payout source used by reconciliation (default: the v1 API, when configured). */
  payouts?: PayoutSource
  /** Overrides the v2 API of the non-monetary commission flow (default: a client from `api.v2`). */
  v2?: V2CommissionApi
  /** How v2 commissions are closed: ids per `mark_fulfilled` call, batch polling. */
  v2Close?: V2CloseOptions
  concurrency?: { grants?: number, events?: number }
  /**
   * How often this process runs the outbox sweeper, on its own timer (not a Redis schedule, which an
   * empty Redis would lose). Default 30 s; 0 disables it (it still runs at start).
   */
  sweepIntervalMs?: number
  /**
   * Rows pending longer than this are swept, and a close deferred until the answer was known is
   * sent after it. Default 30 s: with the default interval, work stored while Redis was away is
   * queued again within about a minute of its return. Keep it above FirstPromoter's 15 s answer window.
   */
  staleAfterMs?: number
  /** Backoff of failing grants: 1 s doubling up to 1 h by default, retried until they succeed. */
  grantRetry?: GrantRetryOptions
  /**
   * While grants are paused, a grant job is put back as delayed for this long, then looks at the
   * switch again. The resume promotes the deferred jobs at once; this bounds the delay if it
   * cannot (Redis away at that moment). Default 60 s.
   */
  pauseRecheckMs?: number
  /** How often reconciliation runs when the API is configured. Default 1 h; 0 disables. */
  reconcileIntervalMs?: number
  /** BullMQ lock duration: how soon a crashed worker's job is taken over. Default 30 s. */
  lockDurationMs?: number
  metrics?: WorkerDeps['metrics']
  /**
   * The outbox relay (docs/ingest.md): queues the processing of inbox rows the api stored without
   * queueing (its dispatcher's `events: 'outbox'`). `batch`: rows per claim (default 500); `pollMs`:
   * the fallback poll when no notice comes (default 1 s). On unless `false`; harmless with several
   * worker processes, each claims different rows.
   */
  relay?: { batch?: number, pollMs?: number } | false
  /**
   * How the inbox rows grant jobs carry are processed together (`maxBatch` 100 rows, `maxWaitMs`
   * 20 ms, `maxWaiting` 1,000 before a job waits for its own row): docs/ingest.md, "A fulfilment".
   */
  carried?: CarriedEventsOptions
}

/** Longest the relay waits for Redis while it holds claimed rows; then it rolls back and retries. */
const RELAY_ENQUEUE_TIMEOUT_MS = 5000

/**
 * Starts the grant, event and maintenance workers on BullMQ.
 * @returns the workers, their deps (for tests and commands) and `close()`, which stops taking jobs,
 * lets running ones finish, and closes the Redis connections (not the db: the caller owns it)
 */
export async function createWorker (options: CreateWorkerOptions) {
  const prefix = options.prefix ?? DEFAULT_PREFIX
  const log = options.logger ?? pino({ name: 'worker' })
  const producer = createProducerConnection(options.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: 3 })
  producer.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'))
  const queues = {
    grants: new Queue(GRANTS_QUEUE, { connection: producer, prefix }),
    events: new Queue(EVENTS_QUEUE, { connection: producer, prefix }),
    maintenance: new Queue(MAINTENANCE_QUEUE, { connection: producer, prefix })
  }
  for (const q of Object.values(queues)) q.on('error', (err) => log.warn({ queue: q.name, err: { message: err.message } }, 'queue error'))

  const jobs = createJobs(queues)
  const closer = options.api ? createFulfilmentCloser(options.api) : undefined
  const payouts = options.payouts ?? v1PayoutSource(options.api)
  const v2 = options.v2 ?? (options.api?.v2
    ? createV2Client({ ...options.api.v2, limiter: options.api.limiter, timeoutMs: options.api.timeoutMs })
    : undefined)
  const retryDelay = (attemptsMade: number) => grantRetryDelay(attemptsMade, options.grantRetry)
  const deps: WorkerDeps = {
    db: options.db,
    log,
    grants: { ...options.definition?.grants, ...options.grants },
    ledgerUnits: new Set(options.ledgerUnits ?? DEFAULT_LEDGER_UNITS),
    handlers: options.handlers ?? options.definition?.handlers ?? createHandlers(),
    closer,
    payouts,
    v2,
    v2Close: options.v2Close,
    // Called for rows Postgres says are unfinished (sweep, reconcile, a granted fulfilment): a
    // finished job holding the id (one failed for stalling twice, a failed close) is replaced.
    enqueueGrant: async (id) => { await jobs.grant(id) },
    enqueueEvent: async (inboxId, eventType) => { await jobs.event(inboxId, eventType) },
    enqueueClose: async (id) => { await jobs.close(id) },
    grantRetryDelay: retryDelay,
    pauseRecheckMs: options.pauseRecheckMs ?? DEFAULT_PAUSE_RECHECK_MS,
    metrics: options.metrics
  }
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS
  const canCloseViaApi = closer !== undefined
  const sweepNow = () => sweep({ ...deps, canCloseViaApi }, { staleAfterMs })
  // v1 payouts and v2 commissions, whichever APIs are configured; the report keeps v1's shape.
  const reconcileAll = async (): Promise<ReconcileReport & { v2?: V2ReconcileReport }> => {
    const v1Report = deps.payouts
      ? await reconcile({ db: deps.db, log, payouts: deps.payouts, jobs, canCloseViaApi })
      : { listed: 0, recovered: 0, requeued: 0, reclosed: 0, invalid: 0 }
    return deps.v2 ? { ...v1Report, v2: await reconcileV2(deps) } : v1Report
  }

  const maintenance: Processor = async (job: Job) => {
    switch (job.name) {
      case JOB.closeFulfilment: return processCloseFulfilment(job, deps)
      // Left by an older version's Redis schedule; the timer below does it now.
      case JOB.sweep: return sweepNow()
      case JOB.reconcile: {
        if (!deps.payouts && !deps.v2) {
          const reason = 'reconciliation needs FP_API_KEY (the v1 payouts list) or FP_API_V2_KEY and FP_ACCOUNT_ID (the v2 commissions) in the worker\'s environment'
          log.warn({ jobId: job.id, reason }, 'reconcile job refused')
          throw new UnrecoverableError(reason)
        }
        return reconcileAll()
      }
      default: throw new Error(`unknown maintenance job "${job.name}"`)
    }
  }

  // The api's waiting answer is woken by this, after the grant's commit (see `announceGrantSettled`),
  // before the job goes on to the event it carries. A failed announcement only makes that answer
  // wait out its budget.
  // With the job's ticket: the api that queued it may then answer 200 without reading the store.
  const announce = (result: GrantResult, ticket: string | undefined) => {
    announceGrantSettled(producer, prefix, result.fulfilmentId, result.state, ticket).catch(() => {})
  }
  const announceFailure = (fulfilmentId: number, err: unknown) => {
    // Only a grant that failed for good: a retried one is still pending, and its waiter keeps waiting.
    if ((err as Error | undefined)?.name === 'UnrecoverableError') announceGrantSettled(producer, prefix, fulfilmentId, 'failed').catch(() => {})
  }
  const carriedRows = createCarriedEvents(deps, options.carried)
  const grantJob: Processor<GrantJobData, GrantResult> = async (job, token) => {
    const carried = job.data.inboxId
    let result: GrantResult
    try {
      result = await processGrant(job, deps, token)
    } catch (err) {
      announceFailure(job.data.fulfilmentId, err)
      if (carried !== undefined) await carriedRows.process(carried)
      throw err
    }
    announce(result, job.data.ticket)
    if (carried !== undefined) await carriedRows.process(carried)
    return result
  }

  const connections = [producer]
  const workerOptions = (concurrency: number) => ({
    connection: (() => {
      const c = createWorkerConnection(options.redisUrl)
      c.on('error', () => {}) // reported through the worker's own 'error' event
      connections.push(c)
      return c
    })(),
    prefix,
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.lockDurationMs ?? 30_000
  })
  const workers = [
    new Worker(
      GRANTS_QUEUE,
      grantJob,
      {
        ...workerOptions(options.concurrency?.grants ?? 8),
        // Only custom backoff types reach it: grant jobs' GRANT_BACKOFF.
        settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade) }
      }
    ),
    new Worker(EVENTS_QUEUE, (job) => processEvent(job, deps), workerOptions(options.concurrency?.events ?? 8)),
    new Worker(MAINTENANCE_QUEUE, maintenance, workerOptions(4))
  ]
  for (const w of workers) {
    w.on('error', (err) => log.warn({ queue: w.name, err: { message: err.message } }, 'worker error'))
    w.on('failed', (job, err) => log.debug({ queue: w.name, jobId: job?.id, err: { message: err.message } }, 'job failed'))
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()))

  await queues.maintenance.removeJobScheduler(JOB.sweep) // an older version's: the timer below replaces it

  // Reconciliation stays a Redis schedule (one run per interval for all workers), so it is set
  // again whenever the connection is ready: a Redis that came back empty has lost it.
  const reconcileIntervalMs = options.reconcileIntervalMs ?? 3_600_000
  const scheduleReconcile = async () => {
    if ((deps.payouts || deps.v2) && reconcileIntervalMs > 0) {
      await queues.maintenance.upsertJobScheduler(
        JOB.reconcile, { every: reconcileIntervalMs }, { name: JOB.reconcile }
      )
    }
  }
  await scheduleReconcile()
  const onReady = () => {
    scheduleReconcile().catch((err: Error) => log.warn({ err: { message: err.message } }, 'could not set the reconcile schedule again'))
  }
  producer.on('ready', onReady)

  const relay = options.relay === false
    ? undefined
    : await startRelay({
      db: options.db,
      log,
      batch: options.relay?.batch,
      pollMs: options.relay?.pollMs,
      enqueue: (rows) => withTimeout(jobs.newEvents(rows), RELAY_ENQUEUE_TIMEOUT_MS)
    })

  // Catch up at once on whatever was stored while no worker ran.
  await sweep({ ...deps, canCloseViaApi }, { staleAfterMs: 0, closeGraceMs: staleAfterMs }).catch((err: Error) => log.warn({ err: { message: err.message } }, 'start-up sweep failed'))
  // Then each process sweeps on its own timer: enqueues are idempotent, so several workers may,
  // and an empty Redis cannot take the schedule with it.
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS
  let closing: Promise<void> | undefined
  const sweeper = sweepIntervalMs > 0
    ? runEvery(sweepIntervalMs, sweepNow, (err) => log.warn({ err: { message: err.message } }, 'sweep failed; next run in %d ms', sweepIntervalMs))
    : undefined
  if (!v2) {
    // v2 has no status code that closes a fulfilment: only the API can, so say so before one is owed.
    log.warn('no v2 API credentials (FP_API_V2_KEY and FP_ACCOUNT_ID): approved v2 non-monetary commissions are granted but can never be marked fulfilled on FirstPromoter, nor read back from its API')
  }
  log.info({ prefix, ledgerUnits: [...deps.ledgerUnits], customGrants: Object.keys(deps.grants), closeVia: closer?.api ?? 'none', v2Api: v2 !== undefined }, 'worker ready')

  return {
    workers,
    queues,
    jobs,
    deps,
    sweep: sweepNow,
    /** Claims and queues every outbox row now (tests; the relay also runs on notices and its poll). */
    relay: () => relay?.drain() ?? Promise.resolve(),
    reconcile: () => {
      if (!deps.payouts && !deps.v2) throw new Error('reconciliation needs FP_API_KEY (the v1 payouts list) or FP_API_V2_KEY and FP_ACCOUNT_ID (the v2 commissions)')
      return reconcileAll()
    },
    /**
     * Idempotent: every call returns the first call's promise. As in BullMQ's `Worker.close`, each
     * step runs whatever became of the one before: a failure is logged and the rest still closes.
     */
    close () {
      closing ??= closeAll()
      return closing
    }
  }

  async function closeAll (): Promise<void> {
    producer.off('ready', onReady)
    await step('sweeper', [async () => { await sweeper?.stop() }])
    await step('relay', [async () => { await relay?.stop() }])
    await step('workers', workers.map((w) => () => w.close()))
    // After the jobs: the rows they carried, whose failures may queue event jobs.
    await step('carried rows', [() => carriedRows.flush()])
    await step('queues', Object.values(queues).map((q) => () => q.close()))
    // BullMQ leaves connections it was given open; they are ours to close.
    await step('connections', connections.map((c) => () => c.quit().catch(() => c.disconnect())))
  }

  /** Runs the step's parts side by side, each in its own try. */
  async function step (name: string, parts: Array<() => Promise<unknown>>): Promise<void> {
    const results = await Promise.allSettled(parts.map(async (part) => await part()))
    for (const result of results) {
      if (result.status === 'rejected') {
        log.error({ step: name, err: { message: (result.reason as Error)?.message } }, 'worker close step failed; closing the rest')
      }
    }
  }
}

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

export type FulfilmentWorker = Awaited<ReturnType<typeof createWorker>>

function v1PayoutSource (api: ApiCredentials | undefined): PayoutSource | undefined {
  if (!api?.v1) return undefined
  return {
    listPending: () => listPendingPayouts(api)
  }
}

async function * listPendingPayouts (api: ApiCredentials): AsyncIterable<unknown> {
  const { createV1Client } = await import('@fp-webhooks/firstpromoter-api')
  const client = createV1Client({ ...api.v1!, limiter: api.limiter, timeoutMs: api.timeoutMs })
  yield * client.listAllPayouts({ status: 'pending' })
}

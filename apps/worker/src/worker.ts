import { Queue, Worker, type Job, type Processor } from 'bullmq'
import type { Db } from '@fp-webhooks/db'
import {
  CLOSE_JOB_OPTIONS,
  DEFAULT_PREFIX,
  EVENTS_QUEUE,
  EVENT_JOB_OPTIONS,
  GRANTS_QUEUE,
  GRANT_JOB_OPTIONS,
  JOB,
  MAINTENANCE_QUEUE,
  closeJobId,
  createProducerConnection,
  createWorkerConnection,
  eventJobId,
  grantJobId,
  requeue
} from '@fp-webhooks/queue'
import { createHandlerRegistry, type HandlerRegistry } from 'fastify-firstpromoter'
import { pino, type Logger } from 'pino'
import { createFulfilmentCloser, type ApiCredentials } from './closer.js'
import type { WorkerDeps } from './deps.js'
import { DEFAULT_LEDGER_UNITS, type GrantFunctions } from './grants.js'
import { processCloseFulfilment } from './processors/close-fulfilment.js'
import { processEvent } from './processors/event.js'
import { processGrant } from './processors/grant.js'
import { reconcile, type PayoutSource } from './reconcile.js'
import { sweep } from './sweep.js'

export interface CreateWorkerOptions {
  db: Db
  redisUrl: string
  /** BullMQ key prefix; must match the api's. Default `fpw`. */
  prefix?: string
  logger?: Logger
  /** Grant functions by unit; they replace the built-in ledger grant for their unit. */
  grants?: GrantFunctions
  /** Units the built-in ledger grants when no function is given. Default free_months, credits, points. */
  ledgerUnits?: readonly string[]
  /** Typed event handlers (the registry the plugin's `app.firstpromoter.on` fills). */
  handlers?: HandlerRegistry
  /** FirstPromoter API credentials: enable closing answered-pending fulfilments and reconciliation. */
  api?: ApiCredentials
  /** Overrides the payout source used by reconciliation (default: the v1 API, when configured). */
  payouts?: PayoutSource
  concurrency?: { grants?: number, events?: number }
  /** How often the outbox sweeper runs. Default 30 s; 0 disables the schedule (it still runs at start). */
  sweepIntervalMs?: number
  /** Rows pending longer than this are swept. Default 30 s. */
  staleAfterMs?: number
  /** How often reconciliation runs when the API is configured. Default 1 h; 0 disables. */
  reconcileIntervalMs?: number
  /** BullMQ lock duration: how soon a crashed worker's job is taken over. Default 30 s. */
  lockDurationMs?: number
  metrics?: WorkerDeps['metrics']
}

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

  const closer = options.api ? createFulfilmentCloser(options.api) : undefined
  const payouts = options.payouts ?? v1PayoutSource(options.api)
  const deps: WorkerDeps = {
    db: options.db,
    sql: options.db.$client,
    log,
    grants: options.grants ?? {},
    ledgerUnits: new Set(options.ledgerUnits ?? DEFAULT_LEDGER_UNITS),
    handlers: options.handlers ?? createHandlerRegistry(),
    closer,
    canCloseViaApi: closer !== undefined,
    payouts,
    // Called for rows Postgres says are unfinished (sweep, reconcile). A finished job may still hold
    // the id, e.g. one failed for stalling twice when its workers were killed: `add` would then do
    // nothing and the row would never be retried, so a finished job is replaced.
    enqueueGrant: async (id) => { await requeue(queues.grants, JOB.grant, { fulfilmentId: id }, { ...GRANT_JOB_OPTIONS, jobId: grantJobId(id) }) },
    enqueueEvent: async (inboxId, eventType) => { await requeue(queues.events, JOB.event, { inboxId, eventType }, { ...EVENT_JOB_OPTIONS, jobId: eventJobId(inboxId) }) },
    enqueueClose: async (id) => { await queues.maintenance.add(JOB.closeFulfilment, { fulfilmentId: id }, { ...CLOSE_JOB_OPTIONS, jobId: closeJobId(id) }) },
    metrics: options.metrics
  }
  const staleAfterMs = options.staleAfterMs ?? 30_000

  const maintenance: Processor = async (job: Job) => {
    switch (job.name) {
      case JOB.closeFulfilment: return processCloseFulfilment(job, deps)
      case JOB.sweep: return sweep(deps, { staleAfterMs })
      case JOB.reconcile: return deps.payouts ? reconcile({ ...deps, payouts: deps.payouts }) : null
      default: throw new Error(`unknown maintenance job "${job.name}"`)
    }
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
    new Worker(GRANTS_QUEUE, (job) => processGrant(job, deps), workerOptions(options.concurrency?.grants ?? 8)),
    new Worker(EVENTS_QUEUE, (job) => processEvent(job, deps), workerOptions(options.concurrency?.events ?? 8)),
    new Worker(MAINTENANCE_QUEUE, maintenance, workerOptions(4))
  ]
  for (const w of workers) {
    w.on('error', (err) => log.warn({ queue: w.name, err: { message: err.message } }, 'worker error'))
    w.on('failed', (job, err) => log.debug({ queue: w.name, jobId: job?.id, err: { message: err.message } }, 'job failed'))
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()))

  const sweepIntervalMs = options.sweepIntervalMs ?? 30_000
  if (sweepIntervalMs > 0) {
    await queues.maintenance.upsertJobScheduler('sweep', { every: sweepIntervalMs }, { name: JOB.sweep })
  }
  const reconcileIntervalMs = options.reconcileIntervalMs ?? 3_600_000
  if (deps.payouts && reconcileIntervalMs > 0) {
    await queues.maintenance.upsertJobScheduler('reconcile', { every: reconcileIntervalMs }, { name: JOB.reconcile })
  }
  // Catch up at once on whatever was stored while no worker ran.
  await sweep(deps, { staleAfterMs: 0 }).catch((err: Error) => log.warn({ err: { message: err.message } }, 'start-up sweep failed'))
  log.info({ prefix, ledgerUnits: [...deps.ledgerUnits], customGrants: Object.keys(deps.grants), closeVia: closer?.api ?? 'none' }, 'worker ready')

  return {
    workers,
    queues,
    deps,
    sweep: () => sweep(deps, { staleAfterMs }),
    reconcile: () => {
      if (!deps.payouts) throw new Error('reconciliation needs FP_API_KEY (the v1 payouts list)')
      return reconcile({ ...deps, payouts: deps.payouts })
    },
    async close () {
      await Promise.all(workers.map((w) => w.close()))
      await Promise.all(Object.values(queues).map((q) => q.close()))
      // BullMQ leaves connections it was given open; they are ours to close.
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())))
    }
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

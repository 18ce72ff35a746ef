import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { FirstPromoterDispatcher } from 'fastify-firstpromoter'
import { createBatcher } from './batch.js'
import { createProducerConnection, createWorkerConnection } from './connection.js'
import { TICKET_PATTERN } from './grant-signal.js'
import { createGrantWaiters } from './grant-waiters.js'
import { createJobs } from './jobs.js'
import { DEFAULT_PREFIX, EVENTS_QUEUE, GRANTS_QUEUE, MAINTENANCE_QUEUE, type EventJobData, type GrantJobData } from './names.js'

export interface BullDispatcherOptions {
  redisUrl: string
  /** BullMQ key prefix. Default `fpw`. */
  prefix?: string
  /**
   * How an ordinary event's processing job is queued. `queue` (the default): the request adds it
   * (one `addBulk` per event-loop turn). `outbox`: the request adds nothing; the store's outbox row
   * (the Postgres store writes one with each new inbox row) is queued by the worker's relay, so the
   * request path only talks to Postgres (docs/ingest.md). Grants are always queued by the request.
   */
  events?: 'queue' | 'outbox'
}

/**
 * The plugin's dispatcher on BullMQ. Producers use a fail-fast connection; waiting for a grant
 * listens for the workers' announcements (`announceGrantSettled`) on one subscriber connection per
 * process, opened at the first wait.
 * @returns the dispatcher plus the queues (for metrics and admin), the enqueue policy (`jobs`) and `close()`
 */
export function createBullDispatcher (options: BullDispatcherOptions) {
  const prefix = options.prefix ?? DEFAULT_PREFIX
  const connection: Redis = createProducerConnection(options.redisUrl)
  // ioredis emits 'error' on every failed reconnect; the answers already say what matters.
  connection.on('error', () => {})
  const grants = new Queue<GrantJobData>(GRANTS_QUEUE, { connection, prefix })
  const events = new Queue<EventJobData>(EVENTS_QUEUE, { connection, prefix })
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection, prefix })
  for (const q of [grants, events, maintenance]) q.on('error', () => {})
  const jobs = createJobs({ grants, events, maintenance })

  let subscriber: Redis | undefined
  let waiters: ReturnType<typeof createGrantWaiters> | undefined
  const grantWaiters = () => {
    if (!waiters) {
      subscriber = createWorkerConnection(options.redisUrl)
      subscriber.on('error', () => {})
      waiters = createGrantWaiters(subscriber, prefix)
    }
    return waiters
  }

  // BullMQ's add() waits for a connection that may never come; a webhook must not.
  const connected = () => {
    if (connection.status !== 'ready') throw new Error(`Redis is not connected (${connection.status})`)
  }

  // Deliveries answered in the same turn share one addBulk: one round trip for all of them.
  const relayed = options.events === 'outbox'
  const addEvents = createBatcher<EventJobData>((rows) => jobs.newEvents(rows))
  const addGrants = createBatcher<GrantJobData>((rows) => jobs.newGrants(rows))

  const dispatcher: FirstPromoterDispatcher = {
    async enqueueEvent ({ inboxId, eventType }) {
      if (relayed) return // committed with the inbox row: the worker's relay queues it
      connected()
      await addEvents({ inboxId, eventType })
    },
    async enqueueGrant ({ fulfilmentId, unit, amount, created, inboxId, ticket }) {
      connected()
      const reward = unit !== undefined && amount !== undefined ? { unit, amount } : undefined
      // Just recorded: no job holds its id, so no need to look first (one round trip, shared). The
      // job processes the delivery's inbox row too, when it carries one, and announces its grant
      // with the ticket. A re-fire's job may be someone else's: no ticket, the store answers.
      if (created === true) {
        const signed = ticket !== undefined && TICKET_PATTERN.test(ticket) ? { ticket } : {}
        return addGrants({ fulfilmentId, ...reward, ...(inboxId !== undefined ? { inboxId } : {}), ...signed })
      }
      // A re-fire may find the id held by a finished job (an operator's reset, a stalled job): replaced.
      await jobs.grant(fulfilmentId, reward)
      // Only a new fulfilment's job carries a row: any other gets its own event job.
      if (inboxId !== undefined) await jobs.event(inboxId, 'fulfilment_pending')
    },
    async waitForGrant (fulfilmentId, timeoutMs, ticket) {
      return grantWaiters().wait(fulfilmentId, timeoutMs, ticket)
    }
  }

  return {
    dispatcher,
    queues: { grants, events, maintenance },
    jobs,
    connection,
    /**
     * Resolves once Redis is connected, or after `timeoutMs`: the producer connection fails fast
     * instead of queueing commands, so the first deliveries after a start would otherwise miss it.
     */
    async ready (timeoutMs = 2000): Promise<boolean> {
      if (connection.status === 'ready') return true
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { connection.off('ready', onReady); resolve(false) }, timeoutMs)
        function onReady () { clearTimeout(timer); resolve(true) }
        connection.once('ready', onReady)
      })
    },
    async close () {
      if (connection.status !== 'ready') {
        // Nothing to flush, and BullMQ's close would wait for a connection that is not coming.
        connection.disconnect()
        subscriber?.disconnect()
      }
      await settleWithin(Promise.all([grants.close(), events.close(), maintenance.close()]), 5000)
      // BullMQ leaves connections it was given open.
      for (const c of [connection, subscriber]) {
        if (c && c.status !== 'end') await settleWithin(c.quit(), 2000).finally(() => c.disconnect())
      }
    }
  }
}

export type BullDispatcher = ReturnType<typeof createBullDispatcher>

/** Waits for `promise` at most `ms`; shutdown must not hang on an unreachable Redis. */
async function settleWithin (promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })
  ])
  clearTimeout(timer)
}

import { OUTBOX_CHANNEL, claimOutbox, type Db, type OutboxRow } from '@fp-webhooks/db'
import type { Logger } from 'pino'

export const DEFAULT_RELAY_BATCH = 500
export const DEFAULT_RELAY_POLL_MS = 1000

export interface RelayOptions {
  db: Db
  log: Logger
  /** Queues the processing jobs of claimed rows in one round trip (`jobs.newEvents`: `addBulk`). */
  enqueue: (rows: readonly OutboxRow[]) => Promise<void>
  /** Most rows claimed per transaction. Default 500. */
  batch?: number
  /**
   * How often it looks for rows without a notice (a missed one, a listener reconnecting).
   * Default 1 s; 0: notices only.
   */
  pollMs?: number
}

/**
 * The outbox relay: claims outbox rows (`for update skip locked`, so several worker processes
 * share them), queues their jobs with one `addBulk`, and deletes them in the same transaction: a
 * crash or a failed enqueue rolls the claim back and the rows are claimed again. A row whose job
 * was queued but whose delete did not commit is queued twice, under the same job id: one job.
 * Woken by the notice the storing statement sends; polls as a fallback. A job Redis lost after the
 * delete is the sweeper's (a pending inbox row older than its threshold).
 * @returns `drain()` (claim until empty, now) and `stop()`
 */
export async function startRelay (options: RelayOptions) {
  const batch = options.batch ?? DEFAULT_RELAY_BATCH
  const pollMs = options.pollMs ?? DEFAULT_RELAY_POLL_MS
  const { db, log } = options
  const state = { stopped: false }
  let running: Promise<void> | undefined
  let again = false
  let failing = false

  const claimOnce = async () => {
    const rows = await db.transaction(async (tx) => {
      const claimed = await claimOutbox(tx, batch)
      if (claimed.length > 0) await options.enqueue(claimed)
      return claimed
    })
    // After the commit: what this process queued for good.
    if (rows.length > 0) log.debug({ relayed: rows.length, firstInboxId: rows[0]!.inboxId, lastInboxId: rows.at(-1)!.inboxId }, 'outbox relay: queued')
    return rows.length
  }

  const run = async () => {
    try {
      do {
        again = false
        while (!state.stopped && await claimOnce() === batch) { /* a full batch: there may be more */ }
      } while (again && !state.stopped)
      if (failing) log.info('outbox relay: queueing again')
      failing = false
    } catch (err) {
      // Once per outage: the poll retries, and the rows wait in Postgres.
      if (!failing) log.warn({ err: { message: (err as Error).message } }, 'outbox relay: could not queue; rows kept for the next attempt')
      failing = true
    }
  }

  const drain = (): Promise<void> => {
    if (state.stopped) return Promise.resolve()
    if (running) { again = true; return running }
    running = run().finally(() => { running = undefined })
    return running
  }

  const wake = () => { drain().catch(() => {}) } // run() reports its own failures
  const listener = await db.$client.listen(OUTBOX_CHANNEL, wake, wake)
    .catch((err: Error) => {
      log.warn({ err: { message: err.message } }, 'outbox relay: cannot listen for notices; polling only')
      return undefined
    })
  const timer = pollMs > 0 ? setInterval(wake, pollMs) : undefined
  timer?.unref()
  await drain()

  return {
    drain,
    async stop () {
      state.stopped = true
      clearInterval(timer)
      await listener?.unlisten().catch(() => {})
      await running
    }
  }
}

export type OutboxRelay = Awaited<ReturnType<typeof startRelay>>

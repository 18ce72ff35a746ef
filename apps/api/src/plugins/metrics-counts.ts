import { countEventsByState, countFulfilmentsByUnitAndState, countQuarantine, countRetryingFulfilments, type Db } from '@fp-webhooks/db'
import type { Queue } from 'bullmq'
import type { FastifyBaseLogger } from 'fastify'

/** A read that takes longer is given up (and its series dropped) so that one stuck source cannot stop the refreshes. */
export const COUNT_READ_TIMEOUT_MS = 10_000

export interface Counts {
  fulfilments: Array<{ unit: string, state: string, n: number }>
  /** Pending fulfilments whose grant failed transiently and is being retried. */
  retrying: Array<{ unit: string, n: number }>
  inbox: Array<{ state: string, n: number }>
  quarantine: number | null
  queues: Array<{ queue: string, state: string, n: number }>
  /** When every source was last read, ms since the epoch; null before the first full refresh. */
  refreshedAt: number | null
}

export interface CountsRefresherDeps {
  db: Db
  queues: Queue[]
  intervalMs: number
  log: FastifyBaseLogger
}

/** Rejects after `ms`, or at once when `signal` aborts (the api is closing: nobody waits for the count). */
function withTimeout<T> (promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    onAbort = () => reject(new Error('stopped'))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort!)
  })
}

/**
 * The row and job counts behind the metrics gauges, read in the background every `intervalMs`
 * and kept in memory, so that a scrape reads no table and costs the same whatever their size and
 * however many scrapers there are. Of the ways to bound that cost this one keeps the counts
 * exact (at most one interval old): Postgres' statistics only move with ANALYZE and give no
 * per-state split that follows a backlog, and counters maintained on every delivery would put a
 * hot row in each webhook's transaction. The price, one grouped count per interval per api
 * process, does not grow with the scrapers. One refresh at a time; a failed source drops its
 * series (and holds back `refreshedAt`) rather than show stale numbers as current.
 */
export function createCountsRefresher (deps: CountsRefresherDeps) {
  const counts: Counts = { fulfilments: [], retrying: [], inbox: [], quarantine: null, queues: [], refreshedAt: null }
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | null = null
  let stopped = false
  const stopping = new AbortController()

  async function read<T> (what: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (stopping.signal.aborted) return undefined
    try {
      return await withTimeout(fn(), COUNT_READ_TIMEOUT_MS, stopping.signal)
    } catch (err) {
      if (stopping.signal.aborted) return undefined
      deps.log.warn({ err: { message: (err as Error).message } }, `metrics: could not read ${what}`)
      return undefined
    }
  }

  async function refresh (): Promise<void> {
    // One after the other: a refresh takes at most one pool connection.
    const fulfilments = await read('fulfilments', () => countFulfilmentsByUnitAndState(deps.db))
    const retrying = await read('retrying grants', () => countRetryingFulfilments(deps.db))
    const inbox = await read('inbox', () => countEventsByState(deps.db))
    const quarantine = await read('quarantine', () => countQuarantine(deps.db))
    const queues = await read('queues', async () => {
      const rows: Counts['queues'] = []
      for (const queue of deps.queues) {
        const byState = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')
        for (const [state, n] of Object.entries(byState)) rows.push({ queue: queue.name, state, n })
      }
      return rows
    })
    counts.fulfilments = fulfilments ?? []
    counts.retrying = retrying ?? []
    counts.inbox = inbox ?? []
    counts.quarantine = quarantine ?? null
    counts.queues = queues ?? []
    if (fulfilments && retrying && inbox && quarantine !== undefined && queues) counts.refreshedAt = Date.now()
  }

  function cycle (): void {
    running = refresh().finally(() => {
      running = null
      if (!stopped) timer = setTimeout(cycle, deps.intervalMs).unref()
    })
  }

  return {
    /** The latest counts (read-only for callers). */
    counts: counts as Readonly<Counts>,
    /** Reads at once, then every interval. */
    start: () => { if (!running && !timer && !stopped) cycle() },
    /** Stops the refreshes; a read in flight is given up at once, not waited for. */
    async stop (): Promise<void> {
      stopped = true
      clearTimeout(timer)
      stopping.abort()
      await running
    }
  }
}

import { isRefusedData } from './retry.js'

export interface GroupCommitOptions {
  /** Most rows in one statement. Default 200. */
  maxRows?: number
  /**
   * Longest a row waits for others before its statement is sent when none is in flight. Default 0:
   * a lone delivery is written at once, and rows arriving while a statement is in flight go
   * together in the next (natural batching).
   */
  maxWaitMs?: number
}

export const DEFAULT_GROUP_COMMIT_MAX_ROWS = 200
export const DEFAULT_GROUP_COMMIT_MAX_WAIT_MS = 0

/** Runs one statement for `rows` (autocommitted); one result per row, in the rows' order. */
export type BatchStatement<Row, Result> = (rows: readonly Row[], signal?: AbortSignal) => Promise<Result[]>

interface Entry<Row, Result> {
  row: Row
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  resolve: (result: Result) => void
  reject: (err: unknown) => void
  sent: boolean
}

/**
 * Group commit: concurrent callers' rows go to Postgres in one statement, and each caller's
 * promise settles once that statement has committed, with its own row's result. A statement that
 * fails rejects exactly the rows in it; one whose data Postgres refused is run again row by row,
 * so a bad row fails alone.
 * @returns `write(row, signal)`; an aborted `signal` drops a row not yet sent (rejecting with the
 * reason), and cancels a statement once every row in it was given up on
 */
export function createStatementBatcher<Row, Result> (
  run: BatchStatement<Row, Result>,
  options: GroupCommitOptions = {}
) {
  const maxRows = options.maxRows ?? DEFAULT_GROUP_COMMIT_MAX_ROWS
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_GROUP_COMMIT_MAX_WAIT_MS
  let pending: Array<Entry<Row, Result>> = []
  let inFlight = 0
  let timer: NodeJS.Timeout | undefined
  let scheduled = false

  const settle = (entry: Entry<Row, Result>) => { if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort) }

  /** Alone, as the batch would have written it: cancelled by its own signal. */
  const runOne = async (e: Entry<Row, Result>) => {
    try {
      const [result] = await run([e.row], e.signal)
      e.resolve(result as Result)
    } catch (err) {
      e.reject(err)
    } finally {
      settle(e)
    }
  }

  async function send (batch: Array<Entry<Row, Result>>): Promise<void> {
    inFlight++
    const cancel = new AbortController()
    let givenUp = 0
    for (const e of batch) {
      e.sent = true
      if (e.signal) {
        const onAbort = () => { if (++givenUp === batch.length) cancel.abort(e.signal!.reason) }
        e.signal.removeEventListener('abort', e.onAbort!)
        e.onAbort = onAbort
        if (e.signal.aborted) onAbort()
        else e.signal.addEventListener('abort', onAbort, { once: true })
      }
    }
    try {
      const results = await run(batch.map((e) => e.row), cancel.signal)
      batch.forEach((e, i) => { settle(e); e.resolve(results[i] as Result) })
    } catch (err) {
      if (batch.length > 1 && isRefusedData(err)) {
        await Promise.all(batch.map(runOne))
      } else {
        for (const e of batch) { settle(e); e.reject(err) }
      }
    } finally {
      inFlight--
      if (pending.length > 0) flush()
    }
  }

  function flush () {
    clearTimeout(timer)
    timer = undefined
    scheduled = false
    while (pending.length > 0) {
      const batch = pending.slice(0, maxRows)
      pending = pending.slice(maxRows)
      send(batch).catch(() => {}) // settles each entry itself
      // More than a full batch waiting: the rest goes once this one is in flight, unless full too.
      if (pending.length < maxRows) break
    }
  }

  function schedule () {
    if (inFlight > 0 && pending.length < maxRows) return // sent when the statement in flight is done
    if (pending.length >= maxRows || maxWaitMs === 0) {
      // Rows arriving in this same turn still join.
      if (!scheduled) { scheduled = true; queueMicrotask(flush) }
      return
    }
    timer ??= setTimeout(flush, maxWaitMs)
  }

  return function write (row: Row, signal?: AbortSignal): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      if (signal?.aborted) { reject(signal.reason); return }
      const entry: Entry<Row, Result> = { row, signal, onAbort: undefined, resolve, reject, sent: false }
      if (signal) {
        entry.onAbort = () => {
          if (entry.sent) return
          pending = pending.filter((e) => e !== entry)
          reject(signal.reason)
        }
        signal.addEventListener('abort', entry.onAbort, { once: true })
      }
      pending.push(entry)
      schedule()
    })
  }
}

import { sql } from 'drizzle-orm'
import type { Db } from './client.js'
import { notifyOutbox } from './outbox.js'
import { name, prepared } from './prepared.js'
import { isRefusedData } from './retry.js'
import { eventOutbox, webhookEvents, type EventState } from './schema.js'

/** One ordinary delivery's inbox row, its strings already storable and its payload serialised. */
export interface InboxRowValues {
  source: 'v1' | 'v2'
  eventId: string
  eventType: string
  /** A time Postgres cannot store is left out (`storableTimestamp`): the event is never refused for it. */
  eventCreatedAt: Date | null
  /** The payload as JSON text, serialised once (`storableJsonText`). */
  payloadJson: string
  /** `test` for a v2 test delivery (never processed), else `pending`. */
  state: EventState
  dedupeKey: string | null
}

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

const c = (column: Parameters<typeof name>[0]) => name(column)

/**
 * The rows of one batch as one jsonb array: one parameter whatever the batch size, so the statement
 * is prepared once per connection. A row inserted also gets its outbox row, and the relay a notice.
 * `on conflict do nothing` skips a duplicate, also of a row earlier in the same batch.
 */
// `noticed` is read so that the notice is sent: a CTE nothing reads is never run.
const insertBatch = prepared<{ rows: string }, { id: string, source: string, eventId: string }>((value) => sql`
  with ins as (
    insert into ${webhookEvents} (${sql.join([webhookEvents.source, webhookEvents.eventId, webhookEvents.eventType, webhookEvents.eventCreatedAt, webhookEvents.payload, webhookEvents.state, webhookEvents.dedupeKey].map(c), sql`, `)})
    select r.source, r.event_id, r.event_type, r.event_created_at, r.payload, r.state, r.dedupe_key
    from jsonb_to_recordset(${value('rows')}::jsonb) as r(source text, event_id text, event_type text, event_created_at timestamptz, payload jsonb, state text, dedupe_key text)
    on conflict do nothing
    returning ${webhookEvents.id} as id, ${webhookEvents.source} as source, ${webhookEvents.eventId} as event_id, ${webhookEvents.eventType} as event_type, ${webhookEvents.state} as state
  ), outbox as (
    insert into ${eventOutbox} (${c(eventOutbox.inboxId)}, ${c(eventOutbox.eventType)})
    select id, event_type from ins where state = 'pending'
  ), notice as (
    ${notifyOutbox} where exists (select 1 from ins where state = 'pending')
  )
  select ins.id as "id", ins.source as "source", ins.event_id as "eventId", (select count(*) from notice) as "noticed"
  from ins`)

/** One row alone, as the batch would write it: how a batch whose data Postgres refused is retried. */
const insertOne = (db: Db, row: InboxRowValues, signal?: AbortSignal) => insertBatch(db, { rows: `[${rowJson(row)}]` }, signal)

function rowJson (row: InboxRowValues): string {
  // The payload is JSON text already: spliced in, not serialised again.
  return `{"source":${JSON.stringify(row.source)},"event_id":${JSON.stringify(row.eventId)},"event_type":${JSON.stringify(row.eventType)},` +
    `"event_created_at":${row.eventCreatedAt === null ? 'null' : `"${row.eventCreatedAt.toISOString()}"`},"state":${JSON.stringify(row.state)},` +
    `"dedupe_key":${row.dedupeKey === null ? 'null' : JSON.stringify(row.dedupeKey)},"payload":${row.payloadJson}}`
}

const key = (source: string, eventId: string) => `${source}\u0000${eventId}`

interface Entry {
  row: InboxRowValues
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  resolve: (inboxId: number | null) => void
  reject: (err: unknown) => void
  sent: boolean
}

/**
 * Group commit of the inbox: concurrent deliveries' rows go to Postgres in one multi-row statement
 * (autocommitted), and each caller's promise settles once that statement has committed: with its
 * inbox id, or null for a duplicate. A statement that fails rejects exactly the rows in it; one whose
 * data Postgres refused is retried row by row, so a bad row fails alone.
 * @returns `write(row, signal)`; an aborted `signal` drops a row not yet sent (rejecting with the
 * reason), and cancels a statement once every row in it was given up on
 */
export function createGroupCommit (db: Db, options: GroupCommitOptions = {}) {
  const maxRows = options.maxRows ?? DEFAULT_GROUP_COMMIT_MAX_ROWS
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_GROUP_COMMIT_MAX_WAIT_MS
  let pending: Entry[] = []
  let inFlight = 0
  let timer: NodeJS.Timeout | undefined
  let scheduled = false

  const settle = (entry: Entry) => { if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort) }

  async function send (batch: Entry[]): Promise<void> {
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
      const rows = await insertBatch(db, { rows: `[${batch.map((e) => rowJson(e.row)).join(',')}]` }, cancel.signal)
      const ids = new Map(rows.map((r) => [key(r.source, r.eventId), Number(r.id)]))
      for (const e of batch) {
        const k = key(e.row.source, e.row.eventId)
        const id = ids.get(k)
        ids.delete(k) // a second row with the same event id in the batch was the duplicate
        settle(e)
        e.resolve(id ?? null)
      }
    } catch (err) {
      if (batch.length > 1 && isRefusedData(err)) {
        await Promise.all(batch.map(async (e) => {
          try {
            const [row] = await insertOne(db, e.row, e.signal)
            e.resolve(row ? Number(row.id) : null)
          } catch (one) {
            e.reject(one)
          } finally {
            settle(e)
          }
        }))
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

  return function write (row: InboxRowValues, signal?: AbortSignal): Promise<number | null> {
    return new Promise<number | null>((resolve, reject) => {
      if (signal?.aborted) { reject(signal.reason); return }
      const entry: Entry = { row, signal, onAbort: undefined, resolve, reject, sent: false }
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

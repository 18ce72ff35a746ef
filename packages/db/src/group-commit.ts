import { sql } from 'drizzle-orm'
import type { Db } from './client.js'
import { notifyOutbox } from './outbox.js'
import { name, prepared } from './prepared.js'
import { createStatementBatcher, type GroupCommitOptions } from './statement-batcher.js'
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

export type { GroupCommitOptions } from './statement-batcher.js'
export { DEFAULT_GROUP_COMMIT_MAX_ROWS, DEFAULT_GROUP_COMMIT_MAX_WAIT_MS } from './statement-batcher.js'

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

/** An inbox row's fields as JSON object members (no braces), as the batch statements' arrays hold them. */
export function inboxRowFields (row: Omit<InboxRowValues, 'dedupeKey'>): string {
  // The payload is JSON text already: spliced in, not serialised again.
  return `"source":${JSON.stringify(row.source)},"event_id":${JSON.stringify(row.eventId)},"event_type":${JSON.stringify(row.eventType)},` +
    `"event_created_at":${row.eventCreatedAt === null ? 'null' : `"${row.eventCreatedAt.toISOString()}"`},"state":${JSON.stringify(row.state)},` +
    `"payload":${row.payloadJson}`
}

const rowJson = (row: InboxRowValues) => `{${inboxRowFields(row)},"dedupe_key":${row.dedupeKey === null ? 'null' : JSON.stringify(row.dedupeKey)}}`

const key = (source: string, eventId: string) => `${source}\u0000${eventId}`

/**
 * Group commit of the inbox: concurrent deliveries' rows go to Postgres in one multi-row statement
 * (autocommitted), and each caller's promise settles once that statement has committed: with its
 * inbox id, or null for a duplicate (see `createStatementBatcher` for failures and aborts).
 * @returns `write(row, signal)`
 */
export function createGroupCommit (db: Db, options: GroupCommitOptions = {}) {
  return createStatementBatcher<InboxRowValues, number | null>(async (batch, signal) => {
    const rows = await insertBatch(db, { rows: `[${batch.map(rowJson).join(',')}]` }, signal)
    const ids = new Map(rows.map((r) => [key(r.source, r.eventId), Number(r.id)]))
    return batch.map((row) => {
      const k = key(row.source, row.eventId)
      const id = ids.get(k)
      ids.delete(k) // a second row with the same event id in the batch was the duplicate
      return id ?? null
    })
  }, options)
}

import { and, desc, eq, inArray, isNotNull, isNull, sql, type SQL } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
import { fulfilments, ledgerEntries, quarantine, webhookEvents, type EventState } from './schema.js'

/*
 * The operator console's reads. Each is served by an index, so that it stays fast with millions of
 * inbox rows (test/admin-queries.test.ts checks the plans): the inbox's (event_type, received_at)
 * index walked once per event type where no type is given (a loose index scan: Postgres has no skip
 * scan), the partial indexes on states that need a human, and the unique keys. None adds an index
 * that every delivery would pay for, except the one on fulfilment deliveries' `data.id`.
 */

type Fulfilment = typeof fulfilments.$inferSelect

/** The fulfilments a human must look at, newest change first: each list at most `limit` long. */
export interface NeedsAttention {
  /** The grant failed for good (422): fix the cause, then retry. */
  failed: Fulfilment[]
  /** Still pending, the grant failing transiently and being retried with backoff. */
  retrying: Fulfilment[]
  /** Granted, but FirstPromoter could not be told through its API. */
  closeFailed: Fulfilment[]
}

export async function listNeedsAttention (db: DbOrTx, limit = 100): Promise<NeedsAttention> {
  const [failed, retrying, closeFailed] = await Promise.all([
    db.select().from(fulfilments).where(eq(fulfilments.state, 'failed')).orderBy(desc(fulfilments.updatedAt)).limit(limit),
    db.select().from(fulfilments)
      .where(and(inArray(fulfilments.state, ['pending', 'granting']), isNotNull(fulfilments.lastError)))
      .orderBy(desc(fulfilments.updatedAt)).limit(limit),
    db.select().from(fulfilments).where(eq(fulfilments.apiClose, 'failed')).orderBy(desc(fulfilments.updatedAt)).limit(limit)
  ])
  return { failed, retrying, closeFailed }
}

/**
 * An operator's retry of a failed API close: due again, so the close job (and the sweeper) send it.
 * @returns whether it was a granted fulfilment whose close had failed
 */
export async function resetFailedClose (db: DbOrTx, id: number): Promise<boolean> {
  const rows = await db.update(fulfilments)
    .set({ apiClose: 'pending', updatedAt: new Date() })
    .where(and(eq(fulfilments.id, id), eq(fulfilments.state, 'granted'), eq(fulfilments.apiClose, 'failed')))
    .returning({ id: fulfilments.id })
  return rows.length > 0
}

export async function getLedgerEntryOf (db: DbOrTx, fulfilmentId: number) {
  const rows = await db.select().from(ledgerEntries).where(eq(ledgerEntries.fulfilmentId, fulfilmentId))
  return rows[0]
}

/** An inbox row as the console lists it: no payload, the fulfilment id of a `fulfilment_pending`. */
export interface EventRow {
  id: number
  source: 'v1' | 'v2'
  eventId: string
  eventType: string
  eventCreatedAt: Date | null
  receivedAt: Date
  state: EventState
  attempts: number
  lastError: string | null
  processedAt: Date | null
  /** `data.id` of a `fulfilment_pending` (null for other types, or once the payload is pruned). */
  fulfilmentId: number | null
  /** The exact `received_at` as Postgres wrote it, for a keyset cursor (a Date drops microseconds). */
  receivedAtExact: string
}

type RawEventRow = {
  id: string
  source: 'v1' | 'v2'
  event_id: string
  event_type: string
  event_created_at: string | null
  received_at: string
  state: EventState
  attempts: number
  last_error: string | null
  processed_at: string | null
  fulfilment_id: string | null
}

const eventColumns = sql`${webhookEvents.id} as id, ${webhookEvents.source} as source, ${webhookEvents.eventId} as event_id,
  ${webhookEvents.eventType} as event_type, ${webhookEvents.eventCreatedAt} as event_created_at, ${webhookEvents.receivedAt} as received_at,
  ${webhookEvents.state} as state, ${webhookEvents.attempts} as attempts, ${webhookEvents.lastError} as last_error, ${webhookEvents.processedAt} as processed_at,
  case when ${webhookEvents.eventType} = 'fulfilment_pending' then ${webhookEvents.payload} #>> '{data,id}' end as fulfilment_id`

const toDate = (v: string | null) => (v === null ? null : new Date(v))

function eventRow (r: RawEventRow): EventRow {
  const fulfilmentId = r.fulfilment_id !== null && /^\d{1,15}$/.test(r.fulfilment_id) ? Number(r.fulfilment_id) : null
  return {
    id: Number(r.id),
    source: r.source,
    eventId: r.event_id,
    eventType: r.event_type,
    eventCreatedAt: toDate(r.event_created_at),
    receivedAt: new Date(r.received_at),
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
    processedAt: toDate(r.processed_at),
    fulfilmentId,
    receivedAtExact: r.received_at
  }
}

/** Where a page of events ends: the next page starts after this row (newest first). */
export interface EventCursor { receivedAt: string, id: number }

export interface EventSearch {
  type?: string
  state?: EventState
  /** FirstPromoter's event id, or our inbox id. */
  id?: string
  from?: Date
  to?: Date
  after?: EventCursor
  /** Default 50, at most 500. */
  limit?: number
}

export interface EventPage {
  events: EventRow[]
  /** The cursor of the next page, or null when this is the last. */
  next: EventCursor | null
}

/**
 * Searches the inbox, newest first, a page at a time (keyset on `received_at, id`: no offset, so
 * page 1,000 costs what page 1 does). By id: the unique key and the primary key. By type: that
 * type's index range. By a state that needs a human (pending, failed): its partial index. Otherwise
 * the type index once per type, each stopping after `limit` rows, merged.
 */
export async function searchEvents (db: DbOrTx, search: EventSearch = {}): Promise<EventPage> {
  const limit = Math.min(Math.max(search.limit ?? 50, 1), 500)
  const ev = webhookEvents
  const filters: SQL[] = []
  if (search.state) filters.push(sql`${ev.state} = ${search.state}`)
  if (search.from) filters.push(sql`${ev.receivedAt} >= ${search.from.toISOString()}::timestamptz`)
  if (search.to) filters.push(sql`${ev.receivedAt} < ${search.to.toISOString()}::timestamptz`)
  if (search.after) {
    const at = sql`${search.after.receivedAt}::timestamptz`
    filters.push(sql`${ev.receivedAt} <= ${at} and (${ev.receivedAt} < ${at} or ${ev.id} < ${search.after.id})`)
  }
  const where = (extra: SQL[]) => {
    const all = [...extra, ...filters]
    return all.length ? sql`where ${sql.join(all, sql` and `)}` : sql``
  }
  const order = sql`order by ${ev.receivedAt} desc, ${ev.id} desc limit ${limit + 1}`

  let query: SQL
  const id = search.id?.trim()
  if (id) {
    const byId = [sql`(${ev.source} in ('v1', 'v2') and ${ev.eventId} = ${id})`]
    if (/^\d{1,15}$/.test(id)) byId.push(sql`${ev.id} = ${Number(id)}`)
    const typed = search.type ? [sql`${ev.eventType} = ${search.type}`] : []
    query = sql`select ${eventColumns} from ${ev} ${where([sql`(${sql.join(byId, sql` or `)})`, ...typed])} ${order}`
  } else if (search.type) {
    query = sql`select ${eventColumns} from ${ev} ${where([sql`${ev.eventType} = ${search.type}`])} ${order}`
  } else if (search.state === 'pending' || search.state === 'failed') {
    query = sql`select ${eventColumns} from ${ev} ${where([])} ${order}`
  } else {
    query = sql`
      with recursive types(t) as (
        (select ${ev.eventType} from ${ev} order by 1 limit 1)
        union all
        select (select ${ev.eventType} from ${ev} where ${ev.eventType} > types.t order by 1 limit 1) from types where types.t is not null
      )
      select page.* from types cross join lateral (
        select ${eventColumns} from ${ev} ${where([sql`${ev.eventType} = types.t`])} ${order}
      ) page
      where types.t is not null
      order by page.received_at desc, page.id desc limit ${limit + 1}`
  }
  const rows = (await db.execute<RawEventRow>(query)) as unknown as RawEventRow[]
  const events = rows.slice(0, limit).map(eventRow)
  const last = events[events.length - 1]
  return { events, next: rows.length > limit && last ? { receivedAt: last.receivedAtExact, id: last.id } : null }
}

/** The event types stored so far (a loose index scan: one probe per type), for the search form. */
export async function listEventTypes (db: DbOrTx): Promise<string[]> {
  const ev = webhookEvents
  const rows = (await db.execute<{ t: string }>(sql`
    with recursive types(t) as (
      (select ${ev.eventType} from ${ev} order by 1 limit 1)
      union all
      select (select ${ev.eventType} from ${ev} where ${ev.eventType} > types.t order by 1 limit 1) from types where types.t is not null
    )
    select t from types where t is not null`)) as unknown as Array<{ t: string }>
  return rows.map((r) => r.t)
}

/** One inbox row with its redacted payload. */
export async function getEventRow (db: DbOrTx, id: number) {
  const rows = await db.select().from(webhookEvents).where(eq(webhookEvents.id, id))
  return rows[0]
}

/**
 * Every inbox row of one fulfilment, oldest first: found by its `data.id` (a partial index on
 * `fulfilment_pending` rows) and by the event ids it was answered for and first recorded with
 * (which still find a row whose payload was pruned).
 */
export async function listFulfilmentDeliveries (
  db: DbOrTx,
  fulfilmentId: number,
  knownEventIds: readonly string[] = []
): Promise<Array<EventRow & { payload: unknown }>> {
  const ev = webhookEvents
  const ids = [...new Set(knownEventIds)]
  const byEventId = ids.length
    ? sql`union select ${ev.id} from ${ev} where ${ev.source} in ('v1', 'v2') and ${ev.eventId} in (${sql.join(ids.map((i) => sql`${i}`), sql`, `)})`
    : sql``
  const rows = (await db.execute<RawEventRow & { payload: unknown }>(sql`
    select ${eventColumns}, ${ev.payload} as payload from ${ev}
    where ${ev.id} in (
      select ${ev.id} from ${ev} where ${ev.eventType} = 'fulfilment_pending' and (${ev.payload} #>> '{data,id}') = ${String(fulfilmentId)}
      ${byEventId}
    )
    order by ${ev.receivedAt}, ${ev.id}`)) as unknown as Array<RawEventRow & { payload: unknown }>
  return rows.map((r) => ({ ...eventRow(r), payload: r.payload }))
}

/** Quarantined deliveries, newest first; by default only those not yet resubmitted. */
export async function listQuarantinePage (db: DbOrTx, options: { includeResubmitted?: boolean, limit?: number } = {}) {
  return db.select().from(quarantine)
    .where(options.includeResubmitted ? undefined : isNull(quarantine.resubmittedAt))
    .orderBy(desc(quarantine.id))
    .limit(Math.min(options.limit ?? 50, 500))
}

/** One hour of the "at a glance" chart. */
export interface HourCounts {
  /** The hour's start. */
  hour: Date
  deliveries: number
  grants: number
  /** Fulfilments failed, API closes failed, events whose processing failed, deliveries quarantined. */
  failures: number
}

export interface Glance {
  hours: HourCounts[]
  backlog: {
    /** Inbox rows not yet processed. */
    pendingEvents: number
    /** Fulfilments not yet granted or failed. */
    pendingFulfilments: number
    /** Quarantined deliveries not yet resubmitted. */
    quarantined: number
  }
}

/**
 * Deliveries, grants and failures per hour over the last `hours` hours (the current hour last),
 * and the backlog. Each count reads only its window from an index: deliveries from the type index
 * (one range per type), grants and failed fulfilments from (state, updated_at), which a grant or
 * a failure always moves forward.
 */
export async function getGlance (db: DbOrTx, hours = 48, now = new Date()): Promise<Glance> {
  const ev = webhookEvents
  const end = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 + 3_600_000)
  const since = new Date(end.getTime() - hours * 3_600_000)
  const s = sql`${since.toISOString()}::timestamptz`
  const counts = (await db.execute<{ hour: string, kind: 'deliveries' | 'grants' | 'failures', n: number }>(sql`
    with recursive types(t) as (
      (select ${ev.eventType} from ${ev} order by 1 limit 1)
      union all
      select (select ${ev.eventType} from ${ev} where ${ev.eventType} > types.t order by 1 limit 1) from types where types.t is not null
    ), marks(kind, at) as (
      select 'deliveries', d.at from types cross join lateral (
        select ${ev.receivedAt} as at from ${ev} where ${ev.eventType} = types.t and ${ev.receivedAt} >= ${s}
      ) d where types.t is not null
      union all
      select 'grants', ${fulfilments.grantedAt} from ${fulfilments}
        where ${fulfilments.state} = 'granted' and ${fulfilments.updatedAt} >= ${s} and ${fulfilments.grantedAt} >= ${s}
      union all
      select 'failures', ${fulfilments.updatedAt} from ${fulfilments} where ${fulfilments.state} = 'failed' and ${fulfilments.updatedAt} >= ${s}
      union all
      select 'failures', ${fulfilments.updatedAt} from ${fulfilments} where ${fulfilments.apiClose} = 'failed' and ${fulfilments.updatedAt} >= ${s}
      union all
      select 'failures', ${ev.receivedAt} from ${ev} where ${ev.state} = 'failed' and ${ev.receivedAt} >= ${s}
      union all
      select 'failures', ${quarantine.receivedAt} from ${quarantine} where ${quarantine.receivedAt} >= ${s}
    )
    select floor(extract(epoch from at) / 3600)::bigint as hour, kind, count(*)::int as n from marks group by 1, 2`)) as unknown as Array<{ hour: string, kind: 'deliveries' | 'grants' | 'failures', n: number }>

  const byHour = new Map<number, HourCounts>()
  for (let i = 0; i < hours; i++) {
    const h = new Date(since.getTime() + i * 3_600_000)
    byHour.set(h.getTime(), { hour: h, deliveries: 0, grants: 0, failures: 0 })
  }
  for (const c of counts) {
    const slot = byHour.get(Number(c.hour) * 3_600_000)
    if (slot) slot[c.kind] += c.n
  }

  const [backlog] = (await db.execute<{ pending_events: number, pending_fulfilments: number, quarantined: number }>(sql`
    select
      (select count(*)::int from ${ev} where ${ev.state} = 'pending') as pending_events,
      (select count(*)::int from ${fulfilments} where ${fulfilments.state} in ('pending', 'granting')) as pending_fulfilments,
      (select count(*)::int from ${quarantine} where ${quarantine.resubmittedAt} is null) as quarantined`)) as unknown as Array<{ pending_events: number, pending_fulfilments: number, quarantined: number }>
  return {
    hours: [...byHour.values()],
    backlog: {
      pendingEvents: backlog?.pending_events ?? 0,
      pendingFulfilments: backlog?.pending_fulfilments ?? 0,
      quarantined: backlog?.quarantined ?? 0
    }
  }
}

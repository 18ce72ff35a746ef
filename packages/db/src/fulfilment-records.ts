import { sql } from 'drizzle-orm'
import type { FulfilmentFacts } from 'fastify-firstpromoter'
import type { Db } from './client.js'
import { inboxRowFields, type InboxRowValues } from './group-commit.js'
import { notifyOutbox } from './outbox.js'
import { name, prepared } from './prepared.js'
import { eventOutbox, fulfilments, webhookEvents, type FulfilmentState } from './schema.js'
import { createStatementBatcher, type GroupCommitOptions } from './statement-batcher.js'

/** A `fulfilment_pending` delivery's inbox row (no dedupe key) and its fulfilment, storable already. */
export type FulfilmentRecordValues = Omit<InboxRowValues, 'dedupeKey'> & FulfilmentFacts

/** What recording one delivery did. */
export interface FulfilmentRecorded {
  /** Its new inbox row; null for a duplicate (stored before, or earlier in the same batch). */
  inboxId: number | null
  /** The fulfilment as this delivery created it; null when it was known already (read it). */
  created: { state: FulfilmentState, failureReason: string | null } | null
  /** Its inbox row is left to the grant job (no outbox row): it created the fulfilment. */
  carried: boolean
}

const c = name

/**
 * The deliveries of one batch as one jsonb array, `i` their order: inbox rows and fulfilments
 * inserted unless known, in that order, so that of two deliveries of one fulfilment the first
 * creates it. A new fulfilment is marked `awaiting_answer` here, before any answer: until a 200 is
 * noted, FirstPromoter may think it pending, whatever happens to the statements after this one.
 * The inbox row of the delivery that creates its fulfilment gets no outbox row (the grant job
 * processes it: "carried"); any other new pending row gets one, and the relay a notice. Rows are
 * matched by their keys among the statement's own results, never by a join on a table (the planner
 * would guess the batch's size and might scan).
 */
const insertBatch = prepared<{ rows: string }, { i: number, inboxId: string | null, state: FulfilmentState | null, failureReason: string | null, carried: boolean }>((value) => sql`
  with r as materialized (
    select * from jsonb_to_recordset(${value('rows')}::jsonb) as r(
      i int, source text, event_id text, event_type text, event_created_at timestamptz, payload jsonb, state text,
      id bigint, unit text, amount bigint, beneficiary text, promoter_id bigint, cust_id text, promoter_email text)
  ), ev as (
    insert into ${webhookEvents} (${sql.join([webhookEvents.source, webhookEvents.eventId, webhookEvents.eventType, webhookEvents.eventCreatedAt, webhookEvents.payload, webhookEvents.state].map(c), sql`, `)})
    select source, event_id, event_type, event_created_at, payload, state from r order by i
    on conflict do nothing
    returning ${webhookEvents.id} as id, ${webhookEvents.source} as source, ${webhookEvents.eventId} as event_id,
      ${webhookEvents.eventType} as event_type, ${webhookEvents.state} as state
  ), f as (
    insert into ${fulfilments} (${sql.join([fulfilments.id, fulfilments.unit, fulfilments.amount, fulfilments.beneficiary, fulfilments.promoterId, fulfilments.custId, fulfilments.promoterEmail, fulfilments.firstEventId, fulfilments.awaitingAnswer].map(c), sql`, `)})
    select id, unit, amount, beneficiary, promoter_id, cust_id, promoter_email, event_id, true from r order by i
    on conflict (${c(fulfilments.id)}) do nothing
    returning ${fulfilments.id} as id, ${fulfilments.state} as state, ${fulfilments.failureReason} as failure_reason,
      ${fulfilments.firstEventId} as first_event_id
  ), matched as (
    select r.i, ev.id as inbox_id, ev.event_type, ev.state as inbox_state, f.state, f.failure_reason,
      ev.state = 'pending' and f.id is not null as carried
    from r
    left join ev on ev.source = r.source and ev.event_id = r.event_id
    left join f on f.id = r.id and f.first_event_id = r.event_id
  ), outbox as (
    insert into ${eventOutbox} (${c(eventOutbox.inboxId)}, ${c(eventOutbox.eventType)})
    select distinct inbox_id, event_type from matched m
    where inbox_state = 'pending' and not exists (select 1 from matched o where o.inbox_id = m.inbox_id and o.carried)
    returning 1
  ), notice as (
    ${notifyOutbox} where exists (select 1 from outbox)
  )
  select i as "i", inbox_id as "inboxId", state as "state", failure_reason as "failureReason",
    coalesce(carried, false) as "carried", (select count(*) from notice) as "noticed"
  from matched order by i`)

const rowJson = (row: FulfilmentRecordValues, i: number) => `{"i":${i},${inboxRowFields(row)},` +
  `"id":${row.id},"unit":${JSON.stringify(row.unit)},"amount":${row.amount},"beneficiary":${JSON.stringify(row.beneficiary)},` +
  `"promoter_id":${row.promoterId ?? 'null'},"cust_id":${JSON.stringify(row.custId)},"promoter_email":${JSON.stringify(row.promoterEmail)}}`

/**
 * Group commit of `fulfilment_pending` deliveries (see `createStatementBatcher`): concurrent
 * deliveries' inbox rows and fulfilments in one statement, each answered with what it did. Of two
 * rows of one event id in a batch the second is the duplicate; of two deliveries of one
 * fulfilment, the first creates it and the second finds it known.
 * @returns `write(values, signal)`
 */
export function createFulfilmentRecords (db: Db, options: GroupCommitOptions = {}) {
  return createStatementBatcher<FulfilmentRecordValues, FulfilmentRecorded>(async (batch, signal) => {
    const rows = await insertBatch(db, { rows: `[${batch.map(rowJson).join(',')}]` }, signal)
    // Rows of the same event id (or fulfilment) joined the same inbox row (or fulfilment): the
    // first in the batch has it, a later one is the duplicate (or finds the fulfilment known).
    const inboxGiven = new Set<string>()
    const createdGiven = new Set<number>()
    return rows.map((row, k) => {
      let inboxId: number | null = null
      if (row.inboxId !== null && !inboxGiven.has(row.inboxId)) {
        inboxGiven.add(row.inboxId)
        inboxId = Number(row.inboxId)
      }
      const id = batch[k]!.id
      let created: FulfilmentRecorded['created'] = null
      if (row.state !== null && !createdGiven.has(id)) {
        createdGiven.add(id)
        created = { state: row.state, failureReason: row.failureReason }
      }
      return { inboxId, created, carried: row.carried && inboxId !== null && created !== null }
    })
  }, options)
}

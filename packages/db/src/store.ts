import { sql } from 'drizzle-orm'
import { FAILED_WITHOUT_REASON, type FirstPromoterStore, type FulfilmentFacts, type FulfilmentStatus, type RecordResult, type SettledAnswer, type SettleNote } from 'fastify-firstpromoter'
import { apiCloseAfterAnswered200, changedByAnswered200 } from './api-close.js'
import { getFulfilmentStatus } from './fulfilments.js'
import type { Db, DbOrTx } from './client.js'
import { assignments, prepared } from './prepared.js'
import { insertQuarantine } from './quarantine.js'
import { createFulfilmentRecords } from './fulfilment-records.js'
import { createGroupCommit, type GroupCommitOptions, type InboxRowValues } from './group-commit.js'
import { answerColumns, createAnswerNotes, recordAnswers, type AnswerNote, type AnswerNotesOptions } from './answer-notes.js'
import { fulfilmentAnswers, fulfilments, type FulfilmentState } from './schema.js'
import { storableJson, storableJsonText, storableString, storableTimestamp } from './storable.js'

/*
 * The store's own statements, each one prepared statement (one round trip): the plugin waits on
 * them while FirstPromoter waits for its answer.
 */

// Named by the seam they come through, whatever the plugin calls their types.
type Delivery = Parameters<FirstPromoterStore['record']>[0]

/** The inbox row as both record statements take it: the group commit's row, less its dedupe key. */
type InboxValues = Omit<InboxRowValues, 'dedupeKey'>

/**
 * The state to answer with. A fulfilment not yet granted or failed is marked `answeredPending` in
 * the same statement; the row lock makes this wait for a grant committing at that moment, so either
 * the grant sees the mark (and closes through the API at once) or this sees the grant (and the
 * answer is 200). It only ever adds the mark: a settle that reaches the server after the plugin gave
 * up (and answered 202) cannot hide that 202; `awaiting_answer`, set when recording, covers it.
 */
const settle = prepared<{ id: number }, { state: FulfilmentState, failureReason: string | null }>((value) => sql`
  update ${fulfilments} set ${assignments(fulfilments, {
    answeredPending: sql`${fulfilments.answeredPending} or ${fulfilments.state} in ('pending', 'granting')`
  })}
  where ${fulfilments.id} = ${value('id')}
  returning ${fulfilments.state} as "state", ${fulfilments.failureReason} as "failureReason"`)

/** The answer a fulfilment's state implies, as the plugin decides it: 200 granted, 422 failed, 202 otherwise. */
const impliedStatus = sql`case ${fulfilments.state} when 'granted' then 200 when 'failed' then 422 else 202 end`
const granted = sql`${fulfilments.state} = 'granted'`

/**
 * `settle` and the answer's note (`insertAnswer`) in one statement, for the plugin's
 * `settleAnswer(id, { eventId, noteBy })`: the note is the answer the state implies. A 200 also tells
 * the fulfilment that FirstPromoter closes it itself, as the note's statement does. Past `noteBy`
 * (a statement that reached the server late: the plugin may have answered 202 without it) it only
 * settles, notes nothing and says so; the plugin then notes what it answered.
 */
const settleNoting = prepared<{ id: number, eventId: string, noteBy: Date }, { state: FulfilmentState, failureReason: string | null, noted: boolean }>((value) => sql`
  with clock as materialized (
    select clock_timestamp() < ${value('noteBy')}::timestamptz as "inTime"
  ), settled as (
    update ${fulfilments} set ${assignments(fulfilments, {
      answeredPending: sql`${fulfilments.answeredPending} or ${fulfilments.state} in ('pending', 'granting')`,
      awaitingAnswer: sql`${fulfilments.awaitingAnswer} and not (${granted} and clock."inTime")`,
      apiClose: sql`case when ${granted} and clock."inTime" then ${apiCloseAfterAnswered200} else ${fulfilments.apiClose} end`,
      updatedAt: sql`case when ${granted} and clock."inTime" and ${changedByAnswered200} then now() else ${fulfilments.updatedAt} end`
    })}
    from clock
    where ${fulfilments.id} = ${value('id')}
    returning ${fulfilments.state} as "state", ${fulfilments.failureReason} as "failureReason", ${impliedStatus} as "statusCode", clock."inTime" as "noted"
  ), note as (
    insert into ${fulfilmentAnswers} ${answerColumns}
    select ${value('id')}, ${value('eventId')}, "statusCode",
      case when "statusCode" = 422 then coalesce("failureReason", ${FAILED_WITHOUT_REASON}) end, now()
    from settled where "noted"
  )
  select "state", "failureReason", "noted" from settled`)

/**
 * Marks the fulfilment as answered "pending" unless it is already granted or failed (see the
 * plugin's `settleAnswer`); reconciliation uses it too, for a fulfilment FirstPromoter still lists.
 * @returns its state, or null when it is not recorded
 */
export async function settleAnswer (db: DbOrTx, id: number): Promise<FulfilmentStatus | null> {
  const rows = await settle(db, { id })
  return rows[0] ? { id, ...rows[0] } : null
}

/**
 * `settleAnswer`, noting the answer it implies in the same statement unless past `noteBy` (the
 * store's `settleAnswer` with a note).
 */
export async function settleAndNoteAnswer (db: DbOrTx, id: number, note: SettleNote): Promise<SettledAnswer | null> {
  const rows = await settleNoting(db, { id, eventId: storableString(note.eventId) ?? '', noteBy: note.noteBy })
  return rows[0] ? { id, ...rows[0] } : null
}

/** One answer for the history, without the store's batching and retries (see `recordAnswers`). */
export async function recordAnswer (db: DbOrTx, note: AnswerNote): Promise<void> {
  await recordAnswers(db, [note])
}

function inboxValues (delivery: Delivery): InboxValues {
  return {
    source: delivery.source,
    eventId: storableString(delivery.eventId),
    eventType: storableString(delivery.eventType),
    eventCreatedAt: storableTimestamp(delivery.eventCreatedAt),
    payloadJson: storableJsonText(delivery.payload),
    state: delivery.test === true ? 'test' : 'pending'
  }
}

function storableFacts (facts: FulfilmentFacts): FulfilmentFacts {
  return {
    ...facts,
    unit: storableString(facts.unit),
    beneficiary: storableString(facts.beneficiary),
    custId: storableString(facts.custId),
    promoterEmail: storableString(facts.promoterEmail)
  }
}

export interface PostgresStoreOptions {
  /** Group commit of ordinary deliveries' inbox rows (see `createGroupCommit`, docs/ingest.md). */
  groupCommit?: GroupCommitOptions
  /** Batching of the answer history's notes (see `createAnswerNotes`). */
  answerNotes?: AnswerNotesOptions
}

/** The Postgres store; `flush` writes the answer notes it holds back (the plugin calls it on close). */
export type PostgresStore = FirstPromoterStore & { flush: () => Promise<void> }

/**
 * The plugin's store backed by Postgres: inbox (and its outbox), fulfilments and quarantine tables.
 * An ordinary delivery's inbox row is group-committed with those of concurrent deliveries; answer
 * notes are written together, a few milliseconds after their answers (`createAnswerNotes`).
 * @param db a Drizzle db from `createDb`
 */
export function createPostgresStore (db: Db, options: PostgresStoreOptions = {}): PostgresStore {
  const writeInboxRow = createGroupCommit(db, options.groupCommit)
  const writeFulfilmentDelivery = createFulfilmentRecords(db, options.groupCommit)
  const notes = createAnswerNotes(db, options.answerNotes)
  return {
    async record (delivery, { signal } = {}): Promise<RecordResult> {
      const { fulfilment } = delivery
      signal?.throwIfAborted()
      // Autocommitted. If the plugin gives up first (answers 503, `signal` aborts), a row not yet
      // sent is dropped and a statement is cancelled: a 503 means not stored (a batch's statement
      // is cancelled once every delivery in it was given up on).
      if (!fulfilment) {
        const inboxId = await writeInboxRow(
          { ...inboxValues(delivery), dedupeKey: storableString(delivery.dedupeKey) },
          signal
        )
        return { inboxId, duplicate: inboxId === null }
      }
      const { inboxId, created, carried } = await writeFulfilmentDelivery(
        { ...inboxValues(delivery), ...storableFacts(fulfilment) },
        signal
      )
      if (created !== null) {
        return {
          inboxId,
          duplicate: inboxId === null,
          fulfilment: { id: fulfilment.id, ...created },
          fulfilmentCreated: true,
          ...(carried ? { processedWithGrant: true } : {})
        }
      }
      // Known already: its state is read in a new statement, which sees a concurrent insert's commit.
      const known = await getFulfilmentStatus(db, fulfilment.id)
      /* c8 ignore next -- the row exists: the insert above conflicted with it */
      if (!known) throw new Error(`fulfilment ${fulfilment.id} vanished`)
      return { inboxId, duplicate: inboxId === null, fulfilment: known }
    },
    async quarantine (entry) {
      await insertQuarantine(db, {
        ...entry,
        reason: storableString(entry.reason),
        details: storableJson(entry.details),
        contentType: storableString(entry.contentType),
        body: storableString(entry.body)
      })
    },
    settleAnswer: (id, note) => note ? settleAndNoteAnswer(db, id, note) : settleAnswer(db, id),
    // Stamped now: the note's statement may be sent a few milliseconds later, with others.
    noteAnswer: (answer) => notes.note({ ...answer, answeredAt: new Date() }),
    flush: () => notes.flush()
  }
}

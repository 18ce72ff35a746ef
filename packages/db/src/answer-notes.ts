import { sql } from 'drizzle-orm'
import { apiCloseAfterAnswered200, changedByAnswered200 } from './api-close.js'
import type { DbOrTx } from './client.js'
import { assignments, name, prepared } from './prepared.js'
import { isRefusedData, retryTransient } from './retry.js'
import { fulfilmentAnswers, fulfilments } from './schema.js'
import { storableString } from './storable.js'

/** An answer for the history, stamped by the caller: writing it again with the same stamp adds nothing. */
export interface AnswerNote {
  fulfilmentId: number
  eventId: string
  statusCode: number
  reason: string | null
  answeredAt: Date
}

export interface AnswerNotesOptions {
  /** Most notes in one statement. Default 200. */
  maxRows?: number
  /**
   * How long a note waits for others before its statement is sent. Default 10 ms: a note is
   * written after its answer has gone, so nobody waits on it, and one statement carries many.
   */
  maxWaitMs?: number
}

export const DEFAULT_ANSWER_NOTES_MAX_ROWS = 200
export const DEFAULT_ANSWER_NOTES_MAX_WAIT_MS = 10

/** The answer history's columns, as every statement that appends to it lists them. */
export const answerColumns = sql`(${sql.join([fulfilmentAnswers.fulfilmentId, fulfilmentAnswers.eventId, fulfilmentAnswers.statusCode, fulfilmentAnswers.reason, fulfilmentAnswers.answeredAt].map(name), sql`, `)})`

/**
 * Appends answers to their fulfilments' histories, each once per (fulfilment, event, time): safe to
 * retry. A 200 also tells its fulfilment that FirstPromoter closes it itself (see `api-close.ts`).
 * The notes are one jsonb array (one parameter whatever their number: prepared once per connection);
 * a note of a fulfilment no longer recorded is skipped.
 *
 * Every lookup is per note, by index: the planner cannot know how many notes the array holds (it
 * guesses 100), and as joins (or hashed `exists`) it would hash whole tables: a sequential scan of
 * the fulfilments and the answer history per statement. Scalar subqueries and `= any(array(...))`
 * keep them index lookups.
 */
const insertAnswers = prepared<{ notes: string }>((value) => sql`
  with notes as materialized (
    select n.*,
      coalesce((select true from ${fulfilments} where ${fulfilments.id} = n.fulfilment_id), false) as known,
      coalesce((
        select true from ${fulfilmentAnswers}
        where ${fulfilmentAnswers.fulfilmentId} = n.fulfilment_id
          and ${fulfilmentAnswers.answeredAt} = n.answered_at
          and ${fulfilmentAnswers.eventId} is not distinct from n.event_id
        limit 1
      ), false) as written
    from jsonb_to_recordset(${value('notes')}::jsonb)
      as n(fulfilment_id bigint, event_id text, status_code smallint, reason text, answered_at timestamptz)
  ), noted as (
    insert into ${fulfilmentAnswers} ${answerColumns}
    select fulfilment_id, event_id, status_code, reason, answered_at from notes where known and not written
  ), told_done as (
    update ${fulfilments} set ${assignments(fulfilments, { awaitingAnswer: sql`false`, apiClose: apiCloseAfterAnswered200, updatedAt: sql`now()` })}
    where ${fulfilments.id} = any(array(select fulfilment_id from notes where status_code = 200 and known)) and ${changedByAnswered200}
  )
  select 1`)

const noteJson = (n: AnswerNote) => JSON.stringify({
  fulfilment_id: n.fulfilmentId,
  event_id: storableString(n.eventId),
  status_code: n.statusCode,
  reason: storableString(n.reason),
  answered_at: n.answeredAt.toISOString()
})

/** Writes the notes in one statement, without retries. */
export async function recordAnswers (db: DbOrTx, notes: readonly AnswerNote[]): Promise<void> {
  await insertAnswers(db, { notes: `[${notes.map(noteJson).join(',')}]` })
}

interface Entry { note: AnswerNote, resolve: () => void, reject: (err: unknown) => void }

/**
 * Not the group commit's statement batcher, on purpose: that one holds rows while a statement is in
 * flight and sends them the moment it ends, which suits a request waiting for its row; a note keeps
 * no one waiting, so each window of `maxWaitMs` goes whole (measured: batches so made cost Postgres
 * 0.1 ms less per fulfilment).
 *
 * The store's `noteAnswer`: notes written together, one statement per `maxWaitMs` (or per
 * `maxRows`), each retried for about half a minute when Postgres is unreachable (the history must
 * not lose a 202, and a 200 noted is what spares an API close). A batch whose data Postgres refused
 * is written note by note, so that a bad note fails alone.
 * @returns `note(answer)`, settled once its statement committed (or gave up), and `flush()`, which
 * sends what waits and resolves once every statement sent has ended (for a graceful close)
 */
export function createAnswerNotes (db: DbOrTx, options: AnswerNotesOptions = {}) {
  const maxRows = options.maxRows ?? DEFAULT_ANSWER_NOTES_MAX_ROWS
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_ANSWER_NOTES_MAX_WAIT_MS
  let pending: Entry[] = []
  let timer: NodeJS.Timeout | undefined
  const writing = new Set<Promise<void>>()

  const write = async (batch: Entry[]): Promise<void> => {
    try {
      await retryTransient(() => recordAnswers(db, batch.map((e) => e.note)))
      for (const e of batch) e.resolve()
    } catch (err) {
      if (batch.length > 1 && isRefusedData(err)) {
        await Promise.all(batch.map((e) => retryTransient(() => recordAnswers(db, [e.note])).then(e.resolve, e.reject)))
      } else {
        for (const e of batch) e.reject(err)
      }
    }
  }

  const send = () => {
    clearTimeout(timer)
    timer = undefined
    while (pending.length > 0) {
      const batch = pending.slice(0, maxRows)
      pending = pending.slice(maxRows)
      const written = write(batch)
      writing.add(written)
      written.finally(() => writing.delete(written)).catch(() => {})
    }
  }

  return {
    note (note: AnswerNote): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending.push({ note, resolve, reject })
        if (pending.length >= maxRows || maxWaitMs === 0) send()
        else timer ??= setTimeout(send, maxWaitMs)
      })
    },
    async flush (): Promise<void> {
      send()
      await Promise.allSettled([...writing])
    }
  }
}

import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm'
import type { FulfilmentFacts, FulfilmentStatus } from 'fastify-firstpromoter'
import { unlessAborted } from './abortable.js'
import type { DbOrTx, Sql } from './client.js'
import { fulfilmentAnswers, fulfilments, type ApiCloseState, type FulfilmentState } from './schema.js'
import { storableRow, storableTimestamp } from './storable.js'

export type Fulfilment = typeof fulfilments.$inferSelect

const statusColumns = {
  id: fulfilments.id,
  state: fulfilments.state,
  failureReason: fulfilments.failureReason
}

/**
 * Inserts the fulfilment unless it exists; a fulfilment's facts never change once recorded.
 * @returns its current status
 */
export async function upsertFulfilment (
  db: DbOrTx,
  facts: FulfilmentFacts,
  extra: { source?: 'webhook' | 'reconcile', firstEventId?: string | null, answeredPending?: boolean } = {}
): Promise<FulfilmentStatus> {
  const inserted = await db.insert(fulfilments).values(storableRow(fulfilments, {
    ...facts,
    source: extra.source ?? 'webhook',
    firstEventId: extra.firstEventId ?? null,
    answeredPending: extra.answeredPending ?? false
  }, [])).onConflictDoNothing({ target: fulfilments.id }).returning(statusColumns)
  if (inserted[0]) return inserted[0]
  const existing = await getFulfilmentStatus(db, facts.id)
  /* c8 ignore next -- the row exists: the insert above conflicted with it */
  if (!existing) throw new Error(`fulfilment ${facts.id} vanished`)
  return existing
}

export async function getFulfilmentStatus (db: DbOrTx, id: number): Promise<FulfilmentStatus | null> {
  const rows = await db.select(statusColumns).from(fulfilments).where(eq(fulfilments.id, id))
  return rows[0] ?? null
}

export async function getFulfilment (db: DbOrTx, id: number): Promise<Fulfilment | undefined> {
  const rows = await db.select().from(fulfilments).where(eq(fulfilments.id, id))
  return rows[0]
}

export async function markGranting (db: DbOrTx, id: number): Promise<void> {
  await db.update(fulfilments)
    .set({ state: 'granting', updatedAt: new Date(), attempts: sql`${fulfilments.attempts} + 1` })
    .where(and(eq(fulfilments.id, id), inArray(fulfilments.state, ['pending', 'granting'])))
}

/**
 * What a grant means for the API close, decided in the grant's own statement. `closeDue`: close
 * now, FirstPromoter was told "pending". With API credentials, a fulfilment whose answer is not
 * yet known to be 200 (`awaiting_answer`) also gets `api_close = 'pending'`: the sweeper closes it
 * after a grace period unless the 200 is noted first (`recordAnswer`).
 */
export interface GrantCloseOutcome { closeDue: boolean }

/** Marks it granted; when FirstPromoter was (or may have been) told "pending" the API close becomes due. */
export async function markGranted (db: DbOrTx, id: number, closeViaApi: boolean): Promise<GrantCloseOutcome> {
  const rows = await db.update(fulfilments)
    .set({
      state: 'granted',
      grantedAt: new Date(),
      updatedAt: new Date(),
      lastError: null,
      failureReason: null,
      apiClose: sql`case when ${closeViaApi}::boolean and (${fulfilments.answeredPending} or ${fulfilments.awaitingAnswer}) then 'pending' else ${fulfilments.apiClose} end`
    })
    .where(eq(fulfilments.id, id))
    .returning({ apiClose: fulfilments.apiClose, answeredPending: fulfilments.answeredPending })
  return { closeDue: rows[0]?.apiClose === 'pending' && rows[0].answeredPending }
}

/**
 * Records a failed attempt; the fulfilment stays pending (its job retries).
 * @param options.countAttempt add one to `attempts` (the built-in grant counts its attempts itself
 * only when it succeeds; custom grants count in `markGranting`)
 */
export async function markAttemptFailed (db: DbOrTx, id: number, error: string, options: { countAttempt?: boolean } = {}): Promise<void> {
  await db.update(fulfilments)
    .set({
      state: 'pending',
      lastError: error,
      updatedAt: new Date(),
      ...(options.countAttempt ? { attempts: sql`${fulfilments.attempts} + 1` } : {})
    })
    .where(and(eq(fulfilments.id, id), inArray(fulfilments.state, ['pending', 'granting'])))
}

export async function markFailed (db: DbOrTx, id: number, reason: string): Promise<void> {
  await db.update(fulfilments)
    .set({ state: 'failed', failureReason: reason, lastError: reason, updatedAt: new Date() })
    .where(and(eq(fulfilments.id, id), inArray(fulfilments.state, ['pending', 'granting'])))
}

/** An operator's retry: a failed fulfilment goes back to pending. @returns whether it was failed */
export async function resetFailed (db: DbOrTx, id: number): Promise<boolean> {
  const rows = await db.update(fulfilments)
    .set({ state: 'pending', failureReason: null, updatedAt: new Date() })
    .where(and(eq(fulfilments.id, id), eq(fulfilments.state, 'failed')))
    .returning({ id: fulfilments.id })
  return rows.length > 0
}

export async function listAnswers (db: DbOrTx, fulfilmentId: number) {
  return db.select().from(fulfilmentAnswers).where(eq(fulfilmentAnswers.fulfilmentId, fulfilmentId)).orderBy(fulfilmentAnswers.id)
}

export async function setApiClose (db: DbOrTx, id: number, state: ApiCloseState, error: string | null = null): Promise<void> {
  await db.update(fulfilments)
    .set({ apiClose: state, apiCloseError: error, ...(state === 'done' ? { apiClosedAt: new Date() } : {}), updatedAt: new Date() })
    .where(eq(fulfilments.id, id))
}

/**
 * Granted fulfilments whose API close is due and untouched for a while: deferred closes (the answer
 * was never noted as 200) and close jobs lost with Redis. Uses the partial index on `api_close`.
 */
export async function listStaleCloses (db: DbOrTx, olderThanMs: number, limit: number) {
  return db.select({ id: fulfilments.id }).from(fulfilments)
    .where(and(
      eq(fulfilments.apiClose, 'pending'),
      eq(fulfilments.state, 'granted'),
      lt(fulfilments.updatedAt, new Date(Date.now() - olderThanMs))
    ))
    .limit(limit)
}

/** Fulfilments whose grant failed transiently and is being retried, per unit (for metrics). */
export async function countRetryingFulfilments (db: DbOrTx) {
  return db.select({ unit: fulfilments.unit, n: sql<number>`count(*)::int` })
    .from(fulfilments)
    .where(and(inArray(fulfilments.state, ['pending', 'granting']), sql`${fulfilments.lastError} is not null`))
    .groupBy(fulfilments.unit)
}

/** Pending fulfilments not touched for a while: their grant job may have been lost. */
export async function listStalePendingFulfilments (db: DbOrTx, olderThanMs: number, limit: number) {
  return db.select({ id: fulfilments.id }).from(fulfilments)
    .where(and(
      or(eq(fulfilments.state, 'pending'), eq(fulfilments.state, 'granting')),
      lt(fulfilments.updatedAt, new Date(Date.now() - olderThanMs))
    ))
    .limit(limit)
}

/** Newest change first; optionally one state. */
export async function listFulfilments (db: DbOrTx, filter: { state?: Fulfilment['state'], limit?: number } = {}) {
  return db.select().from(fulfilments)
    .where(filter.state ? eq(fulfilments.state, filter.state) : undefined)
    .orderBy(desc(fulfilments.updatedAt))
    .limit(Math.min(filter.limit ?? 50, 500))
}

/** Counts per (unit, state), for metrics. */
export async function countFulfilmentsByUnitAndState (db: DbOrTx) {
  return db.select({ unit: fulfilments.unit, state: fulfilments.state, n: sql<number>`count(*)::int` })
    .from(fulfilments).groupBy(fulfilments.unit, fulfilments.state)
}

export interface GrantView { id: number, unit: string, amount: number, state: FulfilmentState, apiClose: ApiCloseState, answeredPending: boolean }

/** What a grant job needs to choose its path, as one prepared statement (the grant hot path). */
export async function getFulfilmentForGrant (sql: Sql, id: number): Promise<GrantView | undefined> {
  const rows = await sql<Array<{ unit: string, amount: string, state: FulfilmentState, api_close: ApiCloseState, answered_pending: boolean }>>`
    select unit, amount::text as amount, state, api_close, answered_pending from fulfilments where id = ${id}`
  const row = rows[0]
  return row ? { id, unit: row.unit, amount: Number(row.amount), state: row.state, apiClose: row.api_close, answeredPending: row.answered_pending } : undefined
}

/**
 * A `fulfilment_pending` delivery in one prepared statement: the inbox row and the fulfilment
 * (inserted unless known) commit together. The fulfilment path's hot write. A new fulfilment is
 * marked `awaiting_answer` here, before any answer: until a 200 is noted, FirstPromoter may think
 * it pending, whatever happens to the statements after this one.
 * @returns the inbox id (null for a duplicate delivery) and the fulfilment's status
 */
export async function recordFulfilmentPrepared (
  sql: Sql,
  event: { source: 'v1' | 'v2', eventId: string, eventType: string, eventCreatedAt: Date | null, payloadJson: string },
  facts: FulfilmentFacts,
  signal?: AbortSignal
): Promise<{ inboxId: number | null, status: FulfilmentStatus }> {
  const rows = await unlessAborted(sql<Array<{ inbox_id: string | null, state: FulfilmentState | null, failure_reason: string | null }>>`
    with ev as (
      insert into webhook_events (source, event_id, event_type, event_created_at, payload)
      values (${event.source}, ${event.eventId}, ${event.eventType}, ${storableTimestamp(event.eventCreatedAt)?.toISOString() ?? null}::timestamptz, ${event.payloadJson}::jsonb)
      on conflict do nothing
      returning id
    ), f as (
      insert into fulfilments (id, unit, amount, beneficiary, promoter_id, cust_id, promoter_email, first_event_id, awaiting_answer)
      values (${facts.id}, ${facts.unit}, ${facts.amount}, ${facts.beneficiary}, ${facts.promoterId}, ${facts.custId}, ${facts.promoterEmail}, ${event.eventId}, true)
      on conflict (id) do nothing
      returning state, failure_reason
    )
    select (select id::text from ev) as inbox_id, (select state from f) as state, (select failure_reason from f) as failure_reason`, signal)
  const row = rows[0]!
  const inboxId = row.inbox_id === null ? null : Number(row.inbox_id)
  if (row.state !== null) return { inboxId, status: { id: facts.id, state: row.state, failureReason: row.failure_reason } }
  // Known already: its state is read in a new statement, which sees a concurrent insert's commit.
  const known = await sql<Array<{ state: FulfilmentState, failure_reason: string | null }>>`select state, failure_reason from fulfilments where id = ${facts.id}`
  /* c8 ignore next -- the row exists: the insert above conflicted with it */
  if (!known[0]) throw new Error(`fulfilment ${facts.id} vanished`)
  return { inboxId, status: { id: facts.id, state: known[0].state, failureReason: known[0].failure_reason } }
}

/**
 * The state to answer with. A fulfilment not yet granted or failed is marked `answeredPending` in
 * the same statement; the row lock makes this wait for a grant committing at that moment, so either
 * the grant sees the mark (and closes through the API at once) or this sees the grant (and the
 * answer is 200). It only ever adds the mark: a settle that reaches the server after the plugin gave
 * up (and answered 202) cannot hide that 202; `awaiting_answer`, set when recording, covers it.
 * One prepared statement.
 */
export async function settleAnswer (sql: Sql, id: number): Promise<FulfilmentStatus | null> {
  const rows = await sql<Array<{ state: FulfilmentState, failure_reason: string | null }>>`
    update fulfilments set answered_pending = answered_pending or state in ('pending', 'granting')
    where id = ${id} returning state, failure_reason`
  return rows[0] ? { id, state: rows[0].state, failureReason: rows[0].failure_reason } : null
}

export interface AnswerNote { fulfilmentId: number, eventId: string | null, statusCode: number, reason: string | null, answeredAt: Date }

/**
 * Appends an answer to the fulfilment's history, once per (fulfilment, event, time): safe to retry.
 * A 200 also tells the fulfilment that FirstPromoter closes it itself: no longer `awaiting_answer`,
 * and an API close not yet sent is no longer needed. One prepared statement.
 */
export async function recordAnswer (sql: Sql, answer: AnswerNote): Promise<void> {
  const at = answer.answeredAt.toISOString()
  await sql`
    with note as (
      insert into fulfilment_answers (fulfilment_id, event_id, status_code, reason, answered_at)
      select ${answer.fulfilmentId}, ${answer.eventId}, ${answer.statusCode}, ${answer.reason}, ${at}::timestamptz
      where not exists (
        select 1 from fulfilment_answers
        where fulfilment_id = ${answer.fulfilmentId} and answered_at = ${at}::timestamptz and event_id is not distinct from ${answer.eventId}
      )
    ), told_done as (
      update fulfilments set
        awaiting_answer = false,
        api_close = case when api_close = 'pending' then 'not_needed' else api_close end,
        updated_at = now()
      where id = ${answer.fulfilmentId} and ${answer.statusCode}::int = 200 and (awaiting_answer or api_close = 'pending')
    )
    select 1`
}

import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm'
import type { FulfilmentFacts, FulfilmentStatus } from 'fastify-firstpromoter'
import { apiCloseAfterGrant, closeDueNow, closePending } from './api-close.js'
import type { DbOrTx } from './client.js'
import { prepared } from './prepared.js'
import { fulfilmentAnswers, fulfilments, type ApiCloseState, type FulfilmentKind, type FulfilmentState } from './schema.js'
import { unitPaused } from './grant-pauses.js'
import { storableRow } from './storable.js'

export type Fulfilment = typeof fulfilments.$inferSelect

const statusColumns = {
  id: fulfilments.id,
  state: fulfilments.state,
  failureReason: fulfilments.failureReason
}

const readStatus = prepared<{ id: number }, { state: FulfilmentState, failureReason: string | null }>((value) => sql`
  select ${fulfilments.state} as "state", ${fulfilments.failureReason} as "failureReason"
  from ${fulfilments} where ${fulfilments.id} = ${value('id')}`)

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

/** A fulfilment's state, as one prepared statement: the store reads it for a repeated delivery. */
export async function getFulfilmentStatus (db: DbOrTx, id: number): Promise<FulfilmentStatus | null> {
  const rows = await readStatus(db, { id })
  return rows[0] ? { id, ...rows[0] } : null
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
 * What a grant means for the API close, decided in the grant's own statement (see `api-close.ts`).
 * `closeDue`: close now, FirstPromoter was told "pending".
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
      apiClose: apiCloseAfterGrant(closeViaApi)
    })
    .where(eq(fulfilments.id, id))
    .returning({ apiClose: fulfilments.apiClose, answeredPending: fulfilments.answeredPending })
  return { closeDue: rows[0] !== undefined && closeDueNow(rows[0]) }
}

/**
 * Records a failed attempt; the fulfilment stays pending (its job retries).
 * @param options.countAttempt add one to `attempts` (the built-in grant counts its attempts itself
 * only when it succeeds; custom grants count in `markGranting`)
 */
export async function markAttemptFailed (
  db: DbOrTx,
  id: number,
  error: string,
  options: { countAttempt?: boolean } = {}
): Promise<void> {
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
  return db.select().from(fulfilmentAnswers)
    .where(eq(fulfilmentAnswers.fulfilmentId, fulfilmentId))
    .orderBy(fulfilmentAnswers.id)
}

export async function setApiClose (
  db: DbOrTx,
  id: number,
  state: ApiCloseState,
  error: string | null = null
): Promise<void> {
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
      closePending,
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

export interface GrantView {
  id: number
  kind: FulfilmentKind
  unit: string
  amount: number
  state: FulfilmentState
  apiClose: ApiCloseState
  answeredPending: boolean
  /** Grants of its unit (or of every unit) are paused: the grant must wait for the resume. */
  paused: boolean
}

const readForGrant = prepared<{ id: number }, Omit<GrantView, 'id' | 'amount'> & { amount: string }>((value) => sql`
  select ${fulfilments.kind} as "kind", ${fulfilments.unit} as "unit", ${fulfilments.amount} as "amount", ${fulfilments.state} as "state",
    ${fulfilments.apiClose} as "apiClose", ${fulfilments.answeredPending} as "answeredPending",
    ${unitPaused(fulfilments.unit)} as "paused"
  from ${fulfilments} where ${fulfilments.id} = ${value('id')}`)

/**
 * What a grant job needs to choose its path, as one prepared statement (the grant hot path); the
 * pause switch is read in the same statement, so every worker sees a pause at its next grant.
 */
export async function getFulfilmentForGrant (db: DbOrTx, id: number): Promise<GrantView | undefined> {
  const [row] = await readForGrant(db, { id })
  return row ? { id, ...row, amount: Number(row.amount) } : undefined
}

import { DelayedError, UnrecoverableError, type Job } from 'bullmq'
import {
  closeDueNow,
  errorText,
  getFulfilment,
  getFulfilmentForGrant,
  grantFromLedger,
  grantFromLedgerIfUnit,
  insertLedgerEntry,
  markAttemptFailed,
  markFailed,
  markGranted,
  markGranting,
  type GrantView
} from '@fp-webhooks/db'
import type { GrantJobData } from '@fp-webhooks/queue'
import { PermanentGrantError, grantFunctionFor, grantRequestOf, ledgerGrant, type GrantFunction } from '../grants.js'
import type { WorkerDeps } from '../deps.js'

export interface GrantResult {
  fulfilmentId: number
  state: 'granted' | 'failed'
  /** True when this run wrote the ledger row; false when an earlier run (or another worker) had. */
  grantedNow: boolean
}

interface GrantOutcome { grantedNow: boolean, closeDue: boolean, state?: 'granted' | 'failed' | 'pending' | 'granting' }

/**
 * Grants one fulfilment exactly once. The ledger row (unique on the fulfilment id), the
 * integrator's grant and the state change commit in one transaction, so
 * duplicates, retries, crashes and concurrent workers cannot grant twice. Whatever grants it (the
 * built-in ledger statement or the integrator's function), a failure is handled the same way: a
 * permanent one ends `failed`, any other is recorded (`last_error`) and retried, with no limit.
 *
 * While grants of its unit are paused (the switch is read with the fulfilment), the job is put
 * back as delayed, without spending an attempt; a resume promotes it.
 * @throws UnrecoverableError when the grant can never succeed (the fulfilment is marked failed);
 * DelayedError when paused; the grant's own error otherwise, so that BullMQ retries it
 */
export async function processGrant (job: Job<GrantJobData>, deps: WorkerDeps, token?: string): Promise<GrantResult> {
  const id = job.data.fulfilmentId
  const fast = await grantBeforeReading(job, deps)
  if (fast) return fast
  const recorded = await getFulfilmentForGrant(deps.db, id)
  if (!recorded) {
    deps.log.warn({ fulfilmentId: id, jobId: job.id }, 'grant job for a fulfilment that is not recorded: dropped (another database under the same QUEUE_PREFIX?)')
    throw new UnrecoverableError(`fulfilment ${id} is not recorded`)
  }
  if (recorded.state === 'granted') {
    // FirstPromoter was told "pending" and the close may not have been queued last time. A close
    // deferred until the answer is known is the sweeper's.
    if (closeDueNow(recorded)) await deps.enqueueClose(id)
    return { fulfilmentId: id, state: 'granted', grantedNow: false }
  }
  if (recorded.state === 'failed') return { fulfilmentId: id, state: 'failed', grantedNow: false }
  if (recorded.paused) return deferWhilePaused(job, deps, recorded, token)

  const grant = grantFunctionFor(recorded.unit, deps.grants, deps.ledgerUnits)
  if (!grant) return failForGood(deps, recorded, `no grant function for unit "${recorded.unit}" (register one, or add the unit to FP_LEDGER_UNITS)`)

  let outcome: GrantOutcome
  try {
    // The built-in grant is one prepared statement, with nothing of the integrator's to run.
    outcome = grant === ledgerGrant
      ? await grantFromLedger(deps.db, id, canClose(deps, recorded))
      : await grantInTransaction(deps, recorded, grant)
  } catch (err) {
    // The text kept in last_error, the log and the job (Redis) has no query parameters or e-mails.
    const reason = errorText(err)
    if (err instanceof PermanentGrantError) return await failForGood(deps, recorded, reason)
    await markAttemptFailed(deps.db, id, reason, { countAttempt: grant === ledgerGrant })
    const attempt = job.attemptsMade + 1
    const retryInMs = deps.grantRetryDelay(attempt)
    deps.log.warn({ fulfilmentId: id, unit: recorded.unit, attempt, retryInMs, err: { message: reason } }, 'grant attempt failed; retrying')
    deps.metrics?.retried?.(recorded.unit)
    // The name is kept: BullMQ reads it (an integrator's UnrecoverableError stops the retries).
    const retry = new Error(reason)
    if (err instanceof Error) retry.name = err.name
    throw retry
  }
  if (outcome.state === 'failed') return { fulfilmentId: id, state: 'failed', grantedNow: false }
  return finish(deps, recorded, outcome)
}

/**
 * The common case in one statement: the job says (from the delivery) that the built-in ledger grants
 * this unit, so the grant is tried before the row is read, limited to the units the ledger grants
 * (the stored unit decides, not the job's). Anything else (already granted, failed, another unit,
 * an error) is left to the full path, which reads the row first.
 */
async function grantBeforeReading (job: Job<GrantJobData>, deps: WorkerDeps): Promise<GrantResult | null> {
  const { fulfilmentId: id, unit } = job.data
  // A v2 commission (negative id) closes through the v2 API only: the full path decides that.
  if (id < 0 || unit === undefined || grantFunctionFor(unit, deps.grants, deps.ledgerUnits) !== ledgerGrant) return null
  const onlyUnits = [...deps.ledgerUnits].filter((u) => !Object.hasOwn(deps.grants, u))
  const outcome = await grantFromLedgerIfUnit(deps.db, id, deps.closer !== undefined, onlyUnits).catch(() => null)
  if (!outcome) return null
  return finish(deps, { id, unit: outcome.unit, amount: outcome.amount }, { ...outcome, state: 'granted' })
}

/** The integrator's grant: its writes, the ledger row and the state change in one transaction. */
async function grantInTransaction (deps: WorkerDeps, recorded: GrantView, grant: GrantFunction): Promise<GrantOutcome> {
  const id = recorded.id
  await markGranting(deps.db, id)
  return deps.db.transaction(async (tx) => {
    const row = await getFulfilment(tx, id)
    if (!row || row.state === 'granted' || row.state === 'failed') return { grantedNow: false, closeDue: false, state: row?.state }
    // The unique ledger row is the lock: a concurrent grant of this fulfilment waits here for our
    // commit, then finds the row taken. The fulfilment row itself is locked only by markGranted,
    // just before commit, so an answer being settled for FirstPromoter never waits on a slow grant.
    const entry = await insertLedgerEntry(tx, {
      fulfilmentId: id,
      beneficiary: row.beneficiary,
      promoterId: row.promoterId,
      custId: row.custId,
      unit: row.unit,
      amount: row.amount
    })
    // Taken: the winner committed the grant and the state change together. Marking it granted
    // again would move grantedAt and could reopen an API close the winner already finished.
    if (!entry) return { grantedNow: false, closeDue: false, state: 'granted' }
    await grant({ fulfilment: Object.freeze(grantRequestOf(row)), tx, idempotencyKey: row.kind === 'v2_commission' ? `firstpromoter-v2-commission-${-id}` : `firstpromoter-fulfilment-${id}` })
    const { closeDue } = await markGranted(tx, id, canClose(deps, recorded))
    return { grantedNow: true, closeDue, state: 'granted' }
  })
}

/**
 * Puts the job back as delayed by `pauseRecheckMs`: not a failure, no attempt spent, no
 * `completed`/`failed` event (an api waiting for it answers 202 when its wait ends). The resume
 * promotes it; the delay only bounds how late it runs if that promotion is lost.
 */
async function deferWhilePaused (
  job: Job<GrantJobData>,
  deps: WorkerDeps,
  recorded: GrantView,
  token: string | undefined
): Promise<never> {
  await job.moveToDelayed(Date.now() + deps.pauseRecheckMs, token)
  deps.log.debug({ fulfilmentId: recorded.id, unit: recorded.unit, recheckInMs: deps.pauseRecheckMs }, 'grants paused: grant deferred')
  throw new DelayedError()
}

/** Whether the grant can be closed through the API: a v2 commission only through the v2 API. */
function canClose (deps: WorkerDeps, recorded: GrantView): boolean {
  return recorded.kind === 'v2_commission' ? deps.v2 !== undefined : deps.closer !== undefined
}

/** Ends the fulfilment `failed` (FirstPromoter is answered 422) and tells a human why. */
async function failForGood (deps: WorkerDeps, recorded: GrantView, reason: string): Promise<never> {
  await markFailed(deps.db, recorded.id, reason)
  deps.log.warn({ fulfilmentId: recorded.id, unit: recorded.unit, amount: recorded.amount, reason }, 'fulfilment failed permanently')
  deps.metrics?.failed(recorded.unit)
  throw new UnrecoverableError(reason)
}

async function finish (deps: WorkerDeps, recorded: Pick<GrantView, 'id' | 'unit' | 'amount'>, outcome: GrantOutcome): Promise<GrantResult> {
  if (outcome.closeDue) await deps.enqueueClose(recorded.id)
  if (outcome.grantedNow) {
    deps.log.info({ fulfilmentId: recorded.id, unit: recorded.unit, amount: recorded.amount }, 'fulfilment granted')
    deps.metrics?.granted(recorded.unit)
  }
  return { fulfilmentId: recorded.id, state: 'granted', grantedNow: outcome.grantedNow }
}

import { UnrecoverableError, type Job } from 'bullmq'
import {
  getFulfilment,
  getFulfilmentForGrant,
  grantFromLedger,
  insertLedgerEntry,
  markAttemptFailed,
  markFailed,
  markGranted,
  markGranting
} from '@fp-webhooks/db'
import type { GrantJobData } from '@fp-webhooks/queue'
import { PermanentGrantError, grantFunctionFor, ledgerGrant } from '../grants.js'
import type { WorkerDeps } from '../deps.js'

export interface GrantResult {
  fulfilmentId: number
  state: 'granted' | 'failed'
  /** True when this run wrote the ledger row; false when an earlier run (or another worker) had. */
  grantedNow: boolean
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 2000)

/**
 * Grants one fulfilment exactly once. The ledger row (unique on the fulfilment id), the
 * integrator's grant and the state change commit in one transaction, so
 * duplicates, retries, crashes and concurrent workers cannot grant twice.
 * @throws UnrecoverableError when the grant can never succeed (the fulfilment is marked failed)
 */
export async function processGrant (job: Job<GrantJobData>, deps: WorkerDeps): Promise<GrantResult> {
  const id = job.data.fulfilmentId
  const { db } = deps
  const recorded = await getFulfilmentForGrant(deps.sql, id)
  if (!recorded) throw new UnrecoverableError(`fulfilment ${id} is not recorded`)
  if (recorded.state === 'granted') {
    // A close that could not be queued last time is queued now.
    if (recorded.apiClose === 'pending') await deps.enqueueClose(id)
    return { fulfilmentId: id, state: 'granted', grantedNow: false }
  }
  if (recorded.state === 'failed') return { fulfilmentId: id, state: 'failed', grantedNow: false }

  const grant = grantFunctionFor(recorded.unit, deps.grants, deps.ledgerUnits)
  if (grant === ledgerGrant) {
    // The built-in grant: one prepared statement, nothing of the integrator's to run.
    const outcome = await grantFromLedger(deps.sql, id, deps.canCloseViaApi)
    return finish(deps, recorded, outcome)
  }
  if (!grant) {
    const reason = `no grant function for unit "${recorded.unit}" (register one, or add the unit to FP_LEDGER_UNITS)`
    await markFailed(db, id, reason)
    throw new UnrecoverableError(reason)
  }

  await markGranting(db, id)
  try {
    const outcome = await db.transaction(async (tx) => {
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
      if (!entry) return { grantedNow: false, closeDue: false, state: 'granted' as const }
      await grant({ fulfilment: row, tx, idempotencyKey: `firstpromoter-fulfilment-${id}` })
      const { closeDue } = await markGranted(tx, id, deps.canCloseViaApi)
      return { grantedNow: true, closeDue, state: 'granted' as const }
    })
    if (outcome.state === 'failed') return { fulfilmentId: id, state: 'failed', grantedNow: false }
    return await finish(deps, recorded, outcome)
  } catch (err) {
    if (err instanceof PermanentGrantError) {
      await markFailed(db, id, err.message)
      deps.log.warn({ fulfilmentId: id, reason: err.message }, 'fulfilment failed permanently')
      deps.metrics?.failed(recorded.unit)
      throw new UnrecoverableError(err.message)
    }
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
    if (final) {
      await markFailed(db, id, `retries exhausted: ${errorText(err)}`)
      deps.metrics?.failed(recorded.unit)
    } else {
      await markAttemptFailed(db, id, errorText(err))
    }
    deps.log.warn({ fulfilmentId: id, attempt: job.attemptsMade + 1, final, err: { message: errorText(err) } }, 'grant attempt failed')
    throw err
  }
}

async function finish (deps: WorkerDeps, recorded: { id: number, unit: string, amount: number }, outcome: { grantedNow: boolean, closeDue: boolean }): Promise<GrantResult> {
  if (outcome.closeDue) await deps.enqueueClose(recorded.id)
  if (outcome.grantedNow) {
    deps.log.info({ fulfilmentId: recorded.id, unit: recorded.unit, amount: recorded.amount }, 'fulfilment granted')
    deps.metrics?.granted(recorded.unit)
  }
  return { fulfilmentId: recorded.id, state: 'granted', grantedNow: outcome.grantedNow }
}

import { commissionIdOf, listV2ClosesDue, markV2Closed, markV2CloseFailed, v2FulfilmentId } from '@fp-webhooks/db'
import type { V2BatchStatus } from '@fp-webhooks/firstpromoter-api'
import { isPermanentApiError } from '../closer.js'
import type { WorkerDeps } from '../deps.js'
import { DEFAULT_V2_CLOSE_BATCH_SIZE } from './api.js'

export interface V2CloseReport { calls: number, closed: number, failed: number }

const FINAL = new Set(['completed', 'failed', 'stopped'])
/** Rounds per job: a steady stream of grants is closed by the next job, not one that never ends. */
const MAX_ROUNDS = 20

/**
 * Sends `POST /commissions/mark_fulfilled` for every granted v2 commission whose close is due, up to
 * `batchSize` ids a call, until none is left. A 202 batch is followed until it is final; ids it
 * could not mark are read back (`filters[fulfilled]=yes`): those not fulfilled end `failed` for a
 * human (reconciliation sends them again). Every call goes through the client's shared rate limiter.
 * @throws the API's transient error (the job retries; the ids stay due)
 */
export async function closeV2Commissions (deps: WorkerDeps, options: { final?: boolean } = {}): Promise<V2CloseReport> {
  const report: V2CloseReport = { calls: 0, closed: 0, failed: 0 }
  const api = deps.v2
  if (!api) return report
  const batchSize = deps.v2Close?.batchSize ?? DEFAULT_V2_CLOSE_BATCH_SIZE
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const due = await listV2ClosesDue(deps.db, batchSize)
    if (due.length === 0) break
    const ids = due.map((d) => commissionIdOf(d.id)!)
    await closeIds(deps, ids, report, options.final ?? false)
  }
  if (report.calls > 0) deps.log.info(report, 'v2 commissions marked fulfilled on FirstPromoter')
  return report
}

async function closeIds (deps: WorkerDeps, ids: number[], report: V2CloseReport, final: boolean): Promise<void> {
  const api = deps.v2!
  const fulfilmentIds = ids.map(v2FulfilmentId)
  let batch: V2BatchStatus | null
  try {
    report.calls++
    const result = await api.markCommissionsFulfilled(ids)
    batch = result.body
    if (batch !== null && batch.id !== undefined && !FINAL.has(String(batch.status))) {
      batch = await api.waitForBatch(batch.id, { intervalMs: deps.v2Close?.pollIntervalMs })
    }
  } catch (err) {
    const message = (err as Error).message
    if (isPermanentApiError(err) && ids.length > 1) {
      // Up to 5 ids are all or nothing: one commission FirstPromoter refuses must not hold the others.
      for (const id of ids) await closeIds(deps, [id], report, final)
      return
    }
    const permanent = isPermanentApiError(err)
    await markV2CloseFailed(deps.db, fulfilmentIds, message, permanent || final)
    if (permanent) {
      report.failed += ids.length
      deps.log.warn({ commissionIds: ids, err: { message } }, 'FirstPromoter refused to mark the commission fulfilled')
      return
    }
    throw err
  }
  const failedCount = Number(batch?.failed_count ?? 0)
  if (batch !== null && (failedCount > 0 || batch.status === 'failed' || batch.status === 'stopped')) {
    // A batch names its failures only in prose: ask which of these ids are fulfilled now. (Asking
    // for the unfulfilled ones would miss an id FirstPromoter does not know, and call it done.)
    report.calls++
    const fulfilled = new Set(
      (await api.listCommissions({ ids, fulfilled: true, perPage: 100 })).map((c) => Number(c.id))
    )
    const done = ids.filter((id) => fulfilled.has(id))
    const left = ids.filter((id) => !fulfilled.has(id))
    await markV2Closed(deps.db, done.map(v2FulfilmentId))
    const why = `mark_fulfilled batch ${String(batch.id)} ${String(batch.status)}: ${JSON.stringify(batch.processing_errors ?? []).slice(0, 500)}`
    await markV2CloseFailed(deps.db, left.map(v2FulfilmentId), why, true)
    report.closed += done.length
    report.failed += left.length
    if (left.length > 0) deps.log.warn({ commissionIds: left, batchId: batch.id }, 'FirstPromoter could not mark these commissions fulfilled')
    return
  }
  await markV2Closed(deps.db, fulfilmentIds)
  report.closed += ids.length
}

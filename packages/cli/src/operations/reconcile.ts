import { checkPostgres, checkRedis, redactUrl } from '@fp-webhooks/config'
import { createDb } from '@fp-webhooks/db'
import { createRedisRateLimiter, createV1Client, createV2Client } from '@fp-webhooks/firstpromoter-api'
import { apiRateLimitKey, createBullDispatcher } from '@fp-webhooks/queue'
import { reconcile, reconcileV2, type ReconcileReport, type V2ReconcileReport } from '@fp-webhooks/operations'
import { destination, pino } from 'pino'
import type { CliConfig } from '../config.js'
import { CliError } from '../context.js'

/**
 * One reconciliation pass in this process. It records and enqueues only; the running worker
 * grants (exactly once) and closes, as for a pass it scheduled itself.
 * @throws DependencyError or CliError when Postgres or Redis is unreachable; the API client's
 * FirstPromoterApiError when the payouts or commissions list cannot be read
 */
export async function runReconcile (config: CliConfig): Promise<ReconcileReport & { v2?: V2ReconcileReport }> {
  await checkPostgres(config.DATABASE_URL)
  await checkRedis(config.REDIS_URL)
  // Logs to stderr: stdout carries the report only.
  const log = pino({ name: 'cli', level: config.LOG_LEVEL }, destination({ fd: 2, sync: true }))
  const handle = createDb(config.DATABASE_URL, { max: 2, applicationName: 'firstpromoter-cli' })
  const queue = createBullDispatcher({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX })
  try {
    if (!await queue.ready(5000)) throw new CliError(`Redis at REDIS_URL=${redactUrl(config.REDIS_URL)} did not become ready`)
    // The workers' key: one FirstPromoter API budget for every process.
    const limiter = createRedisRateLimiter({
      redis: queue.connection,
      key: apiRateLimitKey(config.QUEUE_PREFIX),
      perMinute: config.FP_API_RATE_PER_MINUTE
    })
    let v1Report: ReconcileReport = { listed: 0, recovered: 0, requeued: 0, reclosed: 0, invalid: 0 }
    if (config.FP_API_KEY) {
      const client = createV1Client({ apiKey: config.FP_API_KEY, baseUrl: config.FP_API_URL, limiter })
      v1Report = await reconcile({
        db: handle.db,
        log,
        payouts: { listPending: () => client.listAllPayouts({ status: 'pending' }) },
        // The same enqueue policy as the workers': a finished job holding the id is replaced.
        jobs: queue.jobs,
        // A key is set, so a worker configured like this command closes through the API.
        canCloseViaApi: true
      })
    }
    if (!config.FP_API_V2_KEY || !config.FP_ACCOUNT_ID) return v1Report
    const v2 = createV2Client({
      apiKey: config.FP_API_V2_KEY,
      accountId: config.FP_ACCOUNT_ID,
      baseUrl: config.FP_API_V2_URL,
      limiter
    })
    const v2Report = await reconcileV2({
      db: handle.db,
      log,
      v2,
      enqueueGrant: async (id) => { await queue.jobs.grant(id) },
      enqueueClose: async (id) => { await queue.jobs.close(id) }
    })
    return { ...v1Report, v2: v2Report }
  } finally {
    await queue.close()
    await handle.close()
  }
}

import { createDb } from '@fp-webhooks/db'
import { createRedisRateLimiter } from '@fp-webhooks/firstpromoter-api'
import { apiRateLimitKey } from '@fp-webhooks/queue'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { ApiCredentials } from './closer.js'
import type { WorkerConfig } from './config.js'
import type { FirstPromoterDefinition } from './definition.js'
import { createWorker, type FulfilmentWorker } from './worker.js'

function apiCredentials (config: WorkerConfig, redis: Redis): ApiCredentials | undefined {
  const v1 = config.FP_API_KEY ? { apiKey: config.FP_API_KEY, baseUrl: config.FP_API_URL } : undefined
  const v2 = config.FP_API_V2_KEY && config.FP_ACCOUNT_ID
    ? { apiKey: config.FP_API_V2_KEY, accountId: config.FP_ACCOUNT_ID, baseUrl: config.FP_API_V2_URL }
    : undefined
  if (!v1 && !v2) return undefined
  // One budget for every worker process, below v2's 400 requests a minute.
  const limiter = createRedisRateLimiter({
    redis,
    key: apiRateLimitKey(config.QUEUE_PREFIX),
    perMinute: config.FP_API_RATE_PER_MINUTE
  })
  return { v1, v2, limiter }
}

export interface ConfiguredWorker {
  worker: FulfilmentWorker
  /** Closes the worker, then the connections this function opened (its db pool, the limiter's Redis). */
  close: () => Promise<void>
}

/**
 * A worker as the environment describes it, on a db pool and connections of its own: what the
 * worker's bin runs, and what the api runs beside its routes with WORKER_IN_PROCESS=true.
 */
export async function startConfiguredWorker (
  config: WorkerConfig,
  definition: FirstPromoterDefinition | undefined,
  log: Logger
): Promise<ConfiguredWorker> {
  const { db, close: closeDb } = createDb(config.DATABASE_URL, { max: config.WORKER_CONCURRENCY + 4, applicationName: 'firstpromoter-worker' })
  const limiterRedis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 })
  limiterRedis.on('error', () => {})
  const closeConnections = async () => {
    await limiterRedis.quit().catch(() => limiterRedis.disconnect())
    await closeDb()
  }
  let worker: FulfilmentWorker
  try {
    worker = await createWorker({
      db,
      redisUrl: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      logger: log,
      definition,
      ledgerUnits: config.FP_LEDGER_UNITS.split(',').map((u) => u.trim()).filter(Boolean),
      api: apiCredentials(config, limiterRedis),
      v2Close: { batchSize: config.FP_V2_CLOSE_BATCH_SIZE },
      concurrency: { grants: config.WORKER_CONCURRENCY, events: config.WORKER_CONCURRENCY },
      sweepIntervalMs: config.SWEEP_INTERVAL_MS,
      staleAfterMs: config.SWEEP_STALE_AFTER_MS,
      relay: { batch: config.RELAY_BATCH, pollMs: config.RELAY_POLL_MS },
      grantRetry: { delayMs: config.GRANT_RETRY_DELAY_MS, maxDelayMs: config.GRANT_RETRY_MAX_DELAY_MS },
      pauseRecheckMs: config.GRANT_PAUSE_RECHECK_MS,
      reconcileIntervalMs: config.RECONCILE_INTERVAL_MS,
      lockDurationMs: config.LOCK_DURATION_MS
    })
  } catch (err) {
    await closeConnections()
    throw err
  }
  let closing: Promise<void> | undefined
  return {
    worker,
    close: () => (closing ??= (async () => {
      await worker.close()
      await closeConnections()
    })())
  }
}

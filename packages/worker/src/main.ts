import { ConfigError, DependencyError, checkRedis, closeGracefully, loadDotEnv, redactUrl } from '@fp-webhooks/config'
import { SchemaNotReadyError, assertMigrated, createDb } from '@fp-webhooks/db'
import { createRedisRateLimiter } from '@fp-webhooks/firstpromoter-api'
import { apiRateLimitKey } from '@fp-webhooks/queue'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import type { ApiCredentials } from './closer.js'
import { loadWorkerConfig, type WorkerConfig } from './config.js'
import { loadGrantsModule, loadHandlersModule } from './modules.js'
import { createWorker } from './worker.js'

function apiCredentials (config: WorkerConfig, redis: Redis): ApiCredentials | undefined {
  const v1 = config.FP_API_KEY ? { apiKey: config.FP_API_KEY, baseUrl: config.FP_API_URL } : undefined
  const v2 = config.FP_API_V2_KEY && config.FP_ACCOUNT_ID
    ? { apiKey: config.FP_API_V2_KEY, accountId: config.FP_ACCOUNT_ID, baseUrl: config.FP_API_V2_URL }
    : undefined
  if (!v1 && !v2) return undefined
  // One budget for every worker process, below v2's 400 requests a minute.
  const limiter = createRedisRateLimiter({ redis, key: apiRateLimitKey(config.QUEUE_PREFIX), perMinute: config.FP_API_RATE_PER_MINUTE })
  return { v1, v2, limiter }
}

/** One round trip to Postgres that also checks the schema. @throws DependencyError, SchemaNotReadyError naming DATABASE_URL */
async function checkSchema (url: string): Promise<void> {
  try {
    await assertMigrated(url)
  } catch (err) {
    if (err instanceof SchemaNotReadyError) throw new SchemaNotReadyError(`DATABASE_URL=${redactUrl(url)}: ${err.message}`, err.pending)
    throw new DependencyError('DATABASE_URL', url, err)
  }
}

/**
 * Boots the worker from the environment; resolves once it is running and signals are wired. The
 * checks run in this order, each ending the process with one line on stderr and exit 1: every
 * variable and module (nothing touched yet), Postgres and its schema, Redis.
 */
export async function main (): Promise<void> {
  let config: WorkerConfig
  let grants, handlers
  try {
    loadDotEnv()
    config = loadWorkerConfig()
    grants = config.FP_GRANTS_MODULE ? await loadGrantsModule(config.FP_GRANTS_MODULE) : undefined
    handlers = config.FP_HANDLERS_MODULE ? await loadHandlersModule(config.FP_HANDLERS_MODULE) : undefined
    await checkSchema(config.DATABASE_URL)
    await checkRedis(config.REDIS_URL)
  } catch (err) {
    // A TypeError here is a grants or handlers module that cannot be loaded or is malformed.
    if (err instanceof ConfigError || err instanceof DependencyError || err instanceof SchemaNotReadyError || err instanceof TypeError) {
      console.error(`worker: ${err.message}`)
      process.exit(1)
    }
    throw err
  }
  const log = pino({ name: 'worker', level: config.LOG_LEVEL })

  const { db, close: closeDb } = createDb(config.DATABASE_URL, { max: config.WORKER_CONCURRENCY + 4, applicationName: 'firstpromoter-worker' })
  const limiterRedis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 })
  limiterRedis.on('error', () => {})
  const worker = await createWorker({
    db,
    redisUrl: config.REDIS_URL,
    prefix: config.QUEUE_PREFIX,
    logger: log,
    grants,
    handlers,
    ledgerUnits: config.FP_LEDGER_UNITS.split(',').map((u) => u.trim()).filter(Boolean),
    api: apiCredentials(config, limiterRedis),
    v2Close: { batchSize: config.FP_V2_CLOSE_BATCH_SIZE },
    concurrency: { grants: config.WORKER_CONCURRENCY, events: config.WORKER_CONCURRENCY },
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    staleAfterMs: config.SWEEP_STALE_AFTER_MS,
    grantRetry: { delayMs: config.GRANT_RETRY_DELAY_MS, maxDelayMs: config.GRANT_RETRY_MAX_DELAY_MS },
    reconcileIntervalMs: config.RECONCILE_INTERVAL_MS,
    lockDurationMs: config.LOCK_DURATION_MS
  })

  // Past SHUTDOWN_TIMEOUT_MS the process exits 1 and BullMQ hands the running jobs to another
  // worker once their locks expire.
  const shutdown = closeGracefully({
    name: 'worker',
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    log,
    close: async () => {
      await worker.close()
      await limiterRedis.quit().catch(() => limiterRedis.disconnect())
      await closeDb()
      log.info('worker stopped')
    }
  })
  shutdown.ready()
}

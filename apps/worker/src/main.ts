import { ConfigError, DependencyError, checkPostgres, checkRedis } from '@fp-webhooks/config'
import { createDb } from '@fp-webhooks/db'
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

/** Boots the worker from the environment; resolves once it is running and signals are wired. */
export async function main (): Promise<void> {
  let config: WorkerConfig
  try {
    config = loadWorkerConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`worker: ${err.message}`)
      process.exit(1)
    }
    throw err
  }
  const log = pino({ name: 'worker', level: config.LOG_LEVEL })
  try {
    await checkPostgres(config.DATABASE_URL)
    await checkRedis(config.REDIS_URL)
  } catch (err) {
    if (err instanceof DependencyError) {
      console.error(`worker: ${err.message}`)
      process.exit(1)
    }
    throw err
  }

  let grants, handlers
  try {
    grants = config.FP_GRANTS_MODULE ? await loadGrantsModule(config.FP_GRANTS_MODULE) : undefined
    handlers = config.FP_HANDLERS_MODULE ? await loadHandlersModule(config.FP_HANDLERS_MODULE) : undefined
  } catch (err) {
    console.error(`worker: ${(err as Error).message}`)
    process.exit(1)
  }

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
    concurrency: { grants: config.WORKER_CONCURRENCY, events: config.WORKER_CONCURRENCY },
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    staleAfterMs: config.SWEEP_STALE_AFTER_MS,
    grantRetry: { delayMs: config.GRANT_RETRY_DELAY_MS, maxDelayMs: config.GRANT_RETRY_MAX_DELAY_MS },
    reconcileIntervalMs: config.RECONCILE_INTERVAL_MS,
    lockDurationMs: config.LOCK_DURATION_MS
  })

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'worker shutting down: finishing running jobs')
    const force = setTimeout(() => {
      log.error('worker shutdown timed out; running jobs will be recovered as stalled')
      process.exit(1)
    }, 30_000)
    force.unref()
    try {
      await worker.close()
      await limiterRedis.quit().catch(() => limiterRedis.disconnect())
      await closeDb()
      log.info('worker stopped')
      process.exit(0)
    } catch (err) {
      log.error({ err }, 'worker shutdown failed')
      process.exit(1)
    }
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => { shutdown(signal).catch((err: Error) => log.error({ err }, 'shutdown failed')) })
  }
}

import { ConfigError, DependencyError, checkRedis, closeGracefully, loadDotEnv } from '@fp-webhooks/config'
import { SchemaNotReadyError } from '@fp-webhooks/db'
import { pino } from 'pino'
import { loadWorkerConfig, type WorkerConfig } from './config.js'
import { loadDefinitionFromEnv, type LoadedDefinition } from './modules.js'
import { startConfiguredWorker } from './start.js'
import { checkSchema } from './check-schema.js'

/**
 * Boots the worker from the environment; resolves once it is running and signals are wired. The
 * checks run in this order, each ending the process with one line on stderr and exit 1: every
 * variable and the definition module (nothing touched yet), Postgres and its schema, Redis.
 */
export async function main (): Promise<void> {
  let config: WorkerConfig
  let loaded: LoadedDefinition
  try {
    loadDotEnv()
    config = loadWorkerConfig()
    loaded = await loadDefinitionFromEnv(config)
    await checkSchema(config.DATABASE_URL)
    await checkRedis(config.REDIS_URL)
  } catch (err) {
    // A TypeError here is a definition module that cannot be loaded or is malformed.
    if (
      err instanceof ConfigError ||
      err instanceof DependencyError ||
      err instanceof SchemaNotReadyError ||
      err instanceof TypeError
    ) {
      console.error(`worker: ${err.message}`)
      process.exit(1)
    }
    throw err
  }
  const log = pino({ name: 'worker', level: config.LOG_LEVEL })
  for (const warning of loaded.warnings) log.warn(warning)
  if (loaded.definition) log.info({ variable: loaded.variable, grants: Object.keys(loaded.definition.grants), handlers: loaded.definition.handlers.size }, 'definition module loaded')

  const { close } = await startConfiguredWorker(config, loaded.definition, log)

  // Past SHUTDOWN_TIMEOUT_MS the process exits 1 and BullMQ hands the running jobs to another
  // worker once their locks expire.
  const shutdown = closeGracefully({
    name: 'worker',
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    log,
    close: async () => {
      await close()
      log.info('worker stopped')
    }
  })
  shutdown.ready()
}

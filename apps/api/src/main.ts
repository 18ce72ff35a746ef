import { ConfigError, DependencyError, checkRedis, loadDotEnv } from '@fp-webhooks/config'
import { SchemaNotReadyError } from '@fp-webhooks/db'
import { checkSchema, loadDefinitionFromEnv, loadWorkerConfig } from '@fp-webhooks/worker'
import { loadApiConfig } from './config.js'
import { startServer } from './server.js'

/**
 * Boots the api from the environment. The checks run in this order, each ending the process with
 * one line on stderr and exit 1: every variable and the definition module (nothing touched yet),
 * Postgres, its schema (an api
 * on an unmigrated database would answer every webhook 503), Redis.
 */
export async function main (): Promise<void> {
  try {
    loadDotEnv()
    const config = loadApiConfig()
    const worker = config.WORKER_IN_PROCESS ? loadWorkerConfig() : undefined
    // The same module the worker loads: a broken one stops the api too, before any delivery.
    const { definition, warnings } = await loadDefinitionFromEnv(config).catch((err: unknown) => {
      throw err instanceof TypeError ? new ConfigError([err.message]) : err
    })
    for (const warning of warnings) console.warn(`api: ${warning}`)
    await checkSchema(config.DATABASE_URL)
    await checkRedis(config.REDIS_URL)
    await startServer({ config, definition, worker })
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DependencyError || err instanceof SchemaNotReadyError) {
      console.error(`api: ${err.message}`)
      process.exit(1)
    }
    throw err
  }
}

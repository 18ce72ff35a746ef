import { ConfigError, DependencyError, checkPostgres, checkRedis } from '@fp-webhooks/config'
import { loadApiConfig } from './config.js'
import { startServer } from './server.js'

/** Boots the api from the environment, with a one-line error for a bad variable or an unreachable service. */
export async function main (): Promise<void> {
  try {
    const config = loadApiConfig()
    await checkPostgres(config.DATABASE_URL)
    await checkRedis(config.REDIS_URL)
    await startServer({ config })
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DependencyError) {
      console.error(`api: ${err.message}`)
      process.exit(1)
    }
    // The plugin checks the secrets; name the variable they came from.
    if ((err as { code?: string }).code === 'FST_FIRSTPROMOTER_OPTIONS' && /secret/.test((err as Error).message)) {
      console.error(`api: Invalid configuration: FP_WEBHOOK_SECRET: ${(err as Error).message.replace(/^.*option: /, '')}`)
      process.exit(1)
    }
    throw err
  }
}

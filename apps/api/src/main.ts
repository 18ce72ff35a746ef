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
    throw err
  }
}

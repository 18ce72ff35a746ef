import { Redis } from 'ioredis'
import postgres from 'postgres'
import { redactUrl } from './env.js'

export class DependencyError extends Error {
  constructor (readonly variable: string, url: string, cause: unknown) {
    super(`Cannot reach ${variable === 'REDIS_URL' ? 'Redis' : 'Postgres'} at ${variable}=${redactUrl(url)}: ${(cause as Error).message || String(cause)}`)
    this.name = 'DependencyError'
  }
}

/** One round trip to Postgres. @throws DependencyError naming DATABASE_URL */
export async function checkPostgres (url: string, timeoutSeconds = 5): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: timeoutSeconds, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (err) {
    throw new DependencyError('DATABASE_URL', url, err)
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/** One PING to Redis. @throws DependencyError naming REDIS_URL */
export async function checkRedis (url: string, timeoutMs = 5000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    throw new DependencyError('REDIS_URL', url, err)
  } finally {
    redis.disconnect()
  }
}

import { checkPostgres, checkRedis, redactUrl } from '@fp-webhooks/config'
import { createDb } from '@fp-webhooks/db'
import { replayEvent, type ReplayResult } from '@fp-webhooks/operations'
import { createBullDispatcher } from '@fp-webhooks/queue'
import type { CliConfig } from '../config.js'
import { CliError } from '../context.js'

/**
 * Replays one inbox row through the queues the running worker consumes.
 * @returns null when no inbox row has that id
 * @throws DependencyError or CliError when Postgres or Redis is unreachable
 */
export async function runReplay (config: Pick<CliConfig, 'DATABASE_URL' | 'REDIS_URL' | 'QUEUE_PREFIX'>, inboxId: number): Promise<ReplayResult | null> {
  await checkPostgres(config.DATABASE_URL)
  await checkRedis(config.REDIS_URL)
  const handle = createDb(config.DATABASE_URL, { max: 2, applicationName: 'firstpromoter-cli' })
  const queue = createBullDispatcher({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX })
  try {
    if (!await queue.ready(5000)) throw new CliError(`Redis at REDIS_URL=${redactUrl(config.REDIS_URL)} did not become ready`)
    return await replayEvent(handle.db, queue.jobs, inboxId)
  } finally {
    await queue.close()
    await handle.close()
  }
}

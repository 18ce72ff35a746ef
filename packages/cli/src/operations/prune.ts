import { checkPostgres } from '@fp-webhooks/config'
import { createDb, prune, type PruneReport } from '@fp-webhooks/db'
import type { CliConfig } from '../config.js'

/** Prunes what was last touched before `before`. @throws DependencyError when Postgres is unreachable */
export async function runPrune (config: Pick<CliConfig, 'DATABASE_URL'>, before: Date): Promise<PruneReport> {
  await checkPostgres(config.DATABASE_URL)
  const handle = createDb(config.DATABASE_URL, { max: 1, applicationName: 'firstpromoter-cli' })
  try {
    return await prune(handle.db, before)
  } finally {
    await handle.close()
  }
}

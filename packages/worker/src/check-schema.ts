import { DependencyError, redactUrl } from '@fp-webhooks/config'
import { SchemaNotReadyError, assertMigrated } from '@fp-webhooks/db'

/**
 * The start-up check of the database's schema, shared by the worker and the api: a missing
 * migration names the command to run, anything else is the dependency's error (URL redacted).
 * One round trip to Postgres.
 * @throws DependencyError, SchemaNotReadyError naming DATABASE_URL
 */
export async function checkSchema (url: string): Promise<void> {
  try {
    await assertMigrated(url)
  } catch (err) {
    if (err instanceof SchemaNotReadyError) throw new SchemaNotReadyError(`DATABASE_URL=${redactUrl(url)}: ${err.message}`, err.pending)
    throw new DependencyError('DATABASE_URL', url, err)
  }
}

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { MIGRATIONS_FOLDER } from './migrate.js'

const UNDEFINED_TABLE = '42P01'
const INVALID_SCHEMA_NAME = '3F000'
const INVALID_CATALOG_NAME = '3D000'

/** The command that fixes a missing or outdated schema, for error texts. */
export const MIGRATE_HINT = 'run `pnpm migrate` (or the CLI\'s `firstpromoter-webhooks migrate`) first'

/** The database is missing, or lacks migrations this code needs. */
export class SchemaNotReadyError extends Error {
  constructor (message: string, readonly pending: readonly string[]) {
    super(message)
    this.name = 'SchemaNotReadyError'
  }
}

interface JournalEntry { tag: string, when: number }

function journal (): JournalEntry[] {
  return (JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] }).entries
}

/**
 * Checks that every migration this code ships has been applied (as drizzle's migrator decides:
 * by the time stamp of the last one applied). It only reads; it never creates or migrates.
 * @throws SchemaNotReadyError naming the missing database or the pending migrations, and the command to run
 * @throws the connection error when Postgres cannot be reached
 */
export async function assertMigrated (url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} })
  let lastApplied = -1
  try {
    const [row] = await sql<Array<{ last: string | null }>>`select max(created_at)::text as last from drizzle.__drizzle_migrations`
    lastApplied = row?.last == null ? -1 : Number(row.last)
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === INVALID_CATALOG_NAME) {
      throw new SchemaNotReadyError(`the database ${JSON.stringify(new URL(url).pathname.slice(1))} does not exist: ${MIGRATE_HINT} (it creates the database)`, journal().map((e) => e.tag))
    }
    if (code !== UNDEFINED_TABLE && code !== INVALID_SCHEMA_NAME) throw err
  } finally {
    await sql.end({ timeout: 1 })
  }
  const pending = journal().filter((e) => e.when > lastApplied).map((e) => e.tag)
  if (pending.length > 0) {
    throw new SchemaNotReadyError(`the database is not migrated (${pending.length} pending: ${pending.join(', ')}): ${MIGRATE_HINT}`, pending)
  }
}

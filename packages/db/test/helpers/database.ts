import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { migrate } from '../../src/migrate.js'

// The db package's own harness: @fp-webhooks/testing depends on this package (its databases are
// migrated with it), so this package's tests cannot depend on testing.

/** The server tests use; any database name in it is ignored. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

function urlFor (name: string): string {
  const u = new URL(TEST_PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

/**
 * Gives the calling test its own database, migrated by this package's migrator (or empty, with
 * `migrated: false`), dropped at teardown.
 */
export async function createTestDatabase (
  t: { teardown: (fn: () => unknown) => void },
  options: { migrated?: boolean } = {}
): Promise<{ url: string, name: string }> {
  const name = `fpw_dbtest_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = postgres(urlFor('postgres'), { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`create database "${name}"`)
  } finally {
    await admin.end()
  }
  t.teardown(async () => {
    const sql = postgres(urlFor('postgres'), { max: 1, onnotice: () => {} })
    await sql.unsafe(`drop database if exists "${name}" with (force)`)
    await sql.end()
  })
  if (options.migrated !== false) await migrate(urlFor(name), { createDatabase: false })
  return { url: urlFor(name), name }
}

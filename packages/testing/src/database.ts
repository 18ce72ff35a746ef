import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MIGRATIONS_FOLDER, migrate } from '@fp-webhooks/db'
import postgres from 'postgres'

/** The server tests use; any database name in it is ignored. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Teardown { teardown: (fn: () => unknown) => void }

const OBJECT_IN_USE = '55006'
const DUPLICATE_DATABASE = '42P04'

function urlFor (name: string): string {
  const u = new URL(TEST_PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

function migrationsHash (): string {
  const h = createHash('sha256')
  for (const f of readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql')).sort()) {
    h.update(f).update(readFileSync(join(MIGRATIONS_FOLDER, f)))
  }
  return h.digest('hex').slice(0, 12)
}

let templateReady: Promise<string> | undefined

/**
 * A migrated template, built once per migration set. Test files run in parallel processes, so
 * the build is guarded by an advisory lock and the "already exists" of a racing process ignored.
 */
async function ensureTemplate (admin: postgres.Sql): Promise<string> {
  const name = `fpw_template_${migrationsHash()}`
  await admin.reserve().then(async (conn) => {
    try {
      await conn`select pg_advisory_lock(727002002)`
      const exists = await conn`select 1 from pg_database where datname = ${name}`
      if (exists.length === 0) {
        const building = `${name}_build_${randomBytes(3).toString('hex')}`
        await conn.unsafe(`create database "${building}"`)
        await migrate(urlFor(building), { createDatabase: false })
        await conn.unsafe(`alter database "${building}" rename to "${name}"`)
      }
    } finally {
      await conn`select pg_advisory_unlock(727002002)`
      conn.release()
    }
  })
  return name
}

/**
 * Gives the calling test its own database, cloned from a migrated template (or empty, with
 * `migrated: false`), dropped at teardown.
 * @returns the database's URL and name
 */
export async function createTestDatabase (
  t: Teardown,
  options: { migrated?: boolean } = {}
): Promise<{ url: string, name: string }> {
  const admin = postgres(urlFor('postgres'), { max: 2, onnotice: () => {} })
  try {
    const template = options.migrated === false ? undefined : await (templateReady ??= ensureTemplate(admin))
    const name = `fpw_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(template ? `create database "${name}" template "${template}"` : `create database "${name}"`)
        break
      } catch (err) {
        const code = (err as { code?: string }).code
        // Another process may be cloning the same template at this instant.
        if ((code === OBJECT_IN_USE || code === DUPLICATE_DATABASE) && attempt < 50) {
          await new Promise((resolve) => setTimeout(resolve, 100))
          continue
        }
        throw err
      }
    }
    t.teardown(async () => {
      const sql = postgres(urlFor('postgres'), { max: 1, onnotice: () => {} })
      await sql.unsafe(`drop database if exists "${name}" with (force)`)
      await sql.end()
    })
    return { url: urlFor(name), name }
  } finally {
    await admin.end()
  }
}

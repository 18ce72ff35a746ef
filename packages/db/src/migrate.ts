import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url))
// Any constant works; it only has to be the same for every process that migrates this schema.
const MIGRATION_LOCK_KEY = 727_001_001

const DUPLICATE_DATABASE = '42P04'
const UNIQUE_VIOLATION = '23505'

/**
 * Creates the database named in `url` if it does not exist. Safe when several processes race:
 * the loser's "already exists" is ignored.
 */
export async function ensureDatabase (url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  if (!name) throw new TypeError('DATABASE_URL names no database')
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`
    if (rows.length === 0) {
      await sql.unsafe(`create database "${name.replaceAll('"', '""')}"`).catch((err: { code?: string }) => {
        if (err.code !== DUPLICATE_DATABASE && err.code !== UNIQUE_VIOLATION) throw err
      })
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/**
 * Creates the database if missing and applies pending migrations. Several processes may call it
 * at once: a session advisory lock lets one migrate while the others wait, then find nothing to do.
 * @throws the connection or migration error
 */
export async function migrate (url: string, options: { createDatabase?: boolean } = {}): Promise<void> {
  if (options.createDatabase !== false) await ensureDatabase(url)
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    try {
      await drizzleMigrate(drizzle(sql), { migrationsFolder: MIGRATIONS_FOLDER })
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import t from 'tap'
import { migrate } from '../src/migrate.js'
import { TEST_PG_URL } from './helpers/database.js'

/** Every table the migrations create, sorted. */
const TABLES = ['event_outbox', 'fulfilment_answers', 'fulfilments', 'grant_pauses', 'leads', 'ledger_entries', 'payouts', 'promoters', 'quarantine', 'rewards', 'webhook_events']

function freshName () {
  return `fpw_migrate_${randomBytes(5).toString('hex')}`
}

function urlFor (name: string) {
  const u = new URL(TEST_PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

async function dropLater (name: string) {
  t.teardown(async () => {
    const sql = postgres(urlFor('postgres'), { max: 1, onnotice: () => {} })
    await sql.unsafe(`drop database if exists "${name}" with (force)`)
    await sql.end()
  })
}

async function tablesAndMigrations (url: string) {
  const sql = postgres(url, { max: 1 })
  const tables = await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public' order by 1`
  const applied = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`
  await sql.end()
  return { tables: tables.map((r) => r.table_name), applied: applied[0]!.n }
}

t.test('creates a missing database, applies the migrations, and a second run is a no-op', async (t) => {
  const name = freshName()
  await dropLater(name)
  await migrate(urlFor(name))
  const first = await tablesAndMigrations(urlFor(name))
  t.same(first.tables, TABLES)
  t.ok(first.applied >= 1)
  await migrate(urlFor(name))
  const second = await tablesAndMigrations(urlFor(name))
  t.same(second, first, 'nothing changes on the second run')
})

t.test('two processes migrating the same new database at once both succeed', async (t) => {
  const name = freshName()
  await dropLater(name)
  const script = fileURLToPath(new URL('./fixtures/migrate-child.mjs', import.meta.url))
  const run = () => new Promise<{ code: number | null, stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script, urlFor(name)], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('close', (code) => resolve({ code, stderr }))
  })
  const results = await Promise.all([run(), run(), run()])
  for (const r of results) t.equal(r.code, 0, r.stderr)
  const state = await tablesAndMigrations(urlFor(name))
  t.same(state.tables, TABLES)
})

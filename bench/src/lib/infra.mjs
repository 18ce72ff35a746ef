// The bench's own databases and Redis key prefixes on the shared local Postgres and Redis. Nothing
// else is touched: databases are `bench_<run>_*` (created from a migrated template of this run and
// dropped at the end), Redis keys live under `bench-<run>-*` and are deleted at the end.
import { randomBytes } from 'node:crypto'
import { migrate } from '@fp-webhooks/db'
import { Redis } from 'ioredis'
import postgres from 'postgres'

export const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const RUN_ID = randomBytes(4).toString('hex')
const TEMPLATE = `bench_${RUN_ID}_template`

export function dbUrl (name) {
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

const created = new Set()
const prefixes = new Set()

function admin () {
  return postgres(dbUrl('postgres'), { max: 1, onnotice: () => {} })
}

/** Baseline tables: what a careful hand-written receiver and worker would write to. */
const BASELINE_DDL = `
  create table bench_inbox (
    id bigserial primary key,
    event_id text not null unique,
    payload jsonb not null,
    received_at timestamptz not null default now()
  );
  create table bench_grants (
    id bigserial primary key,
    fulfilment_id bigint not null unique,
    amount bigint not null,
    granted_at timestamptz not null default now()
  );
`

/** Creates and migrates this run's template database (the product schema plus the baseline tables). */
export async function createTemplate () {
  const sql = admin()
  try {
    await sql.unsafe(`create database "${TEMPLATE}"`)
    created.add(TEMPLATE)
  } finally {
    await sql.end()
  }
  await migrate(dbUrl(TEMPLATE), { createDatabase: false })
  const t = postgres(dbUrl(TEMPLATE), { max: 1, onnotice: () => {} })
  try {
    await t.unsafe(BASELINE_DDL)
  } finally {
    await t.end()
  }
}

/** A fresh database cloned from the template. @returns its name and URL */
export async function createDatabase (label) {
  const name = `bench_${RUN_ID}_${label.replace(/[^a-z0-9_]/gi, '_')}_${randomBytes(2).toString('hex')}`.toLowerCase()
  const sql = admin()
  try {
    await sql.unsafe(`create database "${name}" template "${TEMPLATE}"`)
    created.add(name)
  } finally {
    await sql.end()
  }
  return { name, url: dbUrl(name) }
}

export async function dropDatabase (name) {
  const sql = admin()
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`)
    created.delete(name)
  } finally {
    await sql.end()
  }
}

/** A BullMQ prefix of this run's own. */
export function createPrefix (label) {
  const prefix = `bench-${RUN_ID}-${label}-${randomBytes(2).toString('hex')}`
  prefixes.add(prefix)
  return prefix
}

/** Deletes every key under `pattern` (SCAN + UNLINK, so Redis is never blocked). */
async function deleteKeys (pattern) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000)
      cursor = nextCursor
      if (keys.length > 0) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    await redis.quit().catch(() => redis.disconnect())
  }
  return deleted
}

export async function deletePrefix (prefix) {
  const n = await deleteKeys(`${prefix}:*`)
  prefixes.delete(prefix)
  return n
}

/** Drops every database and deletes every key this run created; safe to call more than once. */
export async function cleanupAll () {
  const errors = []
  for (const name of [...created].filter((n) => n !== TEMPLATE)) {
    await dropDatabase(name).catch((err) => errors.push(err))
  }
  if (created.has(TEMPLATE)) await dropDatabase(TEMPLATE).catch((err) => errors.push(err))
  for (const p of [...prefixes]) await deletePrefix(p).catch((err) => errors.push(err))
  // Anything left under this run's namespace (a prefix whose case died half-way).
  await deleteKeys(`bench-${RUN_ID}-*`).catch((err) => errors.push(err))
  return errors
}

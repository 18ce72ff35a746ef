import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema.js'

export type Sql = postgres.Sql
/** Drizzle over postgres.js; `$client` is the postgres.js pool. Queries take a `Db` or a `Tx`, never the pool. */
export type Db = PostgresJsDatabase<typeof schema> & { $client: Sql }
/** A transaction handle, as passed to `db.transaction(async (tx) => …)`. Queries accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type DbOrTx = Db | Tx

export interface CreateDbOptions {
  /** Pool size. Default 10. */
  max?: number
  /** Seconds to wait for a connection before failing. Default 5: a webhook must be answered well inside 15 s. */
  connectTimeout?: number
  /** Application name shown in pg_stat_activity. */
  applicationName?: string
}

/**
 * Opens a postgres.js pool and wraps it in Drizzle.
 * @param url a postgres:// connection string
 * @returns the Drizzle db, the postgres.js pool `sql` (for checks and tests), and `close()` which ends the pool
 */
export function createDb (url: string, options: CreateDbOptions = {}) {
  const sql = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeout ?? 5,
    idle_timeout: 30,
    // postgres.js waits `backoff(n)` seconds before reconnecting a connection that failed, n being
    // the pool's count of failures; its default reaches 10–20 s after 7 of them, so a pool of 20
    // stayed away that long after a short outage (a webhook must be answered within 15 s).
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1),
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'firstpromoter-webhooks' }
  })
  const db: Db = drizzle(sql, { schema })
  return {
    db,
    sql,
    close: () => sql.end({ timeout: 5 })
  }
}

export type DbHandle = ReturnType<typeof createDb>

import { fillPlaceholders, getTableColumns, is, sql, type Name, type Placeholder, type Query, type SQL, type Table } from 'drizzle-orm'
import { PgDialect, type PgColumn } from 'drizzle-orm/pg-core'
import { PostgresJsSession } from 'drizzle-orm/postgres-js'
import { unlessAborted } from './abortable.js'
import type { DbOrTx, Sql } from './client.js'

/*
 * Why hot statements do not run as plain Drizzle queries: drizzle's postgres-js driver sends every
 * query not built with `.prepare()` with `prepare: false`, and postgres.js then sends an unnamed
 * Parse/Describe, waits for the parameter types, and only then Bind/Execute: two round trips, and
 * Postgres parses and plans it every time. A prepared statement costs that once per connection,
 * then one round trip. Drizzle's own `.prepare()` does the same but hides the postgres.js query,
 * so the store could no longer cancel a write whose delivery was already answered 503.
 */

const dialect = new PgDialect()

/** The postgres.js client behind a Drizzle db, or the connection of a Drizzle transaction. */
function clientOf (db: DbOrTx): Sql {
  const session = db._.session
  /* c8 ignore next -- the Db type only admits drizzle's postgres-js driver */
  if (!is(session, PostgresJsSession)) throw new TypeError('expected a Drizzle db or transaction over postgres.js')
  return session.client as Sql
}

/** Drizzle's driver turns off postgres.js's Date serialiser: a time is sent as its ISO text. */
function driverValues (values: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(values)) out[key] = value instanceof Date ? value.toISOString() : value
  return out
}

/** The placeholder for `values[name]`, as `prepared` hands it to a statement's builder. */
export type Value<Values> = <K extends keyof Values & string>(name: K) => Placeholder<K>

export interface PreparedStatement<Values, Row> {
  /**
   * @param db the pool or the caller's transaction: the statement runs on that connection
   * @param signal cancels the statement: dropped if still waiting for a connection, cancelled on
   * the server if already sent
   */
  (db: DbOrTx, values: Values, signal?: AbortSignal): Promise<Row[]>
}

/**
 * A statement of a hot path, run as a postgres.js prepared statement on the connection of `db` or
 * of the caller's `tx`: one round trip (Parse and Describe only the first time on each connection).
 * Its text is built once, from the schema's tables and columns; every value is a placeholder.
 * @param build returns the statement as a Drizzle `sql` template; `value(name)` is the placeholder
 * filled from `values[name]` (a Date is sent as its ISO text: cast it, `${value('at')}::timestamptz`)
 * @returns a function running the statement; each row is keyed by the statement's output names
 */
export function prepared<Values extends object, Row = Record<string, never>> (
  build: (value: Value<Values>) => SQL
): PreparedStatement<Values, Row> {
  let query: Query | undefined
  return (db, values, signal) => {
    query ??= dialect.sqlToQuery(build(sql.placeholder))
    const params = fillPlaceholders(query.params, driverValues(values)) as never[]
    return unlessAborted(clientOf(db).unsafe<Row[]>(query.sql, params, { prepare: true }), signal)
  }
}

/**
 * Runs a query built with Drizzle's query builder as a postgres.js prepared statement: one round
 * trip instead of two (see above) for a write whose text is the same every time (the projections'
 * upserts: the same columns for every event of a type). Values are taken as Drizzle mapped them.
 * Keep it to statements of a few fixed shapes: each distinct text is prepared once per connection.
 */
export async function runPrepared (db: DbOrTx, query: { toSQL: () => Query }): Promise<void> {
  const { sql: text, params } = query.toSQL()
  await clientOf(db).unsafe(text, params as never[], { prepare: true })
}

/** `runPrepared` for a statement written as a Drizzle `sql` template (its values as parameters). */
export async function runPreparedSql (db: DbOrTx, statement: SQL): Promise<void> {
  await runPrepared(db, { toSQL: () => dialect.sqlToQuery(statement) })
}

/** A column's bare name, where SQL wants it unqualified: insert lists, `set`, `on conflict`, `excluded.`. */
export function name (column: PgColumn): Name {
  return sql.identifier(column.name)
}

type ColumnValues<T extends Table> = { [K in keyof T['_']['columns']]?: SQL | Placeholder }

function entries<T extends Table> (table: T, row: ColumnValues<T>): Array<[PgColumn, SQL | Placeholder]> {
  const columns = getTableColumns(table) as Record<string, PgColumn>
  return Object.entries(row).map(([key, value]) => {
    const column = columns[key]
    /* c8 ignore next -- the row's type admits only the table's keys */
    if (!column) throw new TypeError(`no column ${key}`)
    return [column, value as SQL | Placeholder]
  })
}

/** `("a", "b") values ($1, $2)` for an insert, from values keyed by the table's property names. */
export function insertValues<T extends Table> (table: T, row: ColumnValues<T>): SQL {
  const pairs = entries(table, row)
  return sql`(${sql.join(pairs.map(([column]) => name(column)), sql`, `)}) values (${sql.join(pairs.map(([, value]) => value), sql`, `)})`
}

/** `"a" = $1, "b" = now()` for an update's `set`, from values keyed by the table's property names. */
export function assignments<T extends Table> (table: T, row: ColumnValues<T>): SQL {
  return sql.join(entries(table, row).map(([column, value]) => sql`${name(column)} = ${value}`), sql`, `)
}

/**
 * Every column of `table` for a prepared `select`, each under its property name, and the mapping
 * Drizzle's own select applies to the values (`mapFromDriverValue`: bigint mode, times, jsonb).
 */
export function selectedColumns<T extends Table> (table: T): { list: SQL, toRow: (raw: Record<string, unknown>) => T['$inferSelect'] } {
  const columns = Object.entries(getTableColumns(table) as Record<string, PgColumn>)
  return {
    list: sql.join(columns.map(([key, column]) => sql`${column} as ${sql.identifier(key)}`), sql`, `),
    toRow: (raw) => {
      const out: Record<string, unknown> = {}
      for (const [key, column] of columns) {
        const value = raw[key]
        out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
      }
      return out as T['$inferSelect']
    }
  }
}

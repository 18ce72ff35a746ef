import { getTableColumns, getTableName, type Table } from 'drizzle-orm'

/*
 * Postgres refuses two things JSON and JavaScript strings allow: U+0000 (in text and in jsonb) and
 * UTF-16 surrogates without their pair (jsonb rejects the `\ud800` escape JSON.stringify writes).
 * A delivery carrying either would fail to store on every retry, answered 503 as if Postgres were
 * down; each becomes U+FFFD instead, so the delivery is kept with that detail replaced.
 */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what must be found
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

export function storableString (value: string): string
export function storableString (value: string | null): string | null
export function storableString (value: string | null): string | null {
  return value === null ? null : value.replace(UNSTORABLE, '\ufffd')
}

/** A copy of a JSON value whose strings and keys Postgres accepts (the value itself when it is already fine). */
export function storableJson<T> (value: T): T {
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return storableString(node)
    if (node === null || typeof node !== 'object') return node
    if (Array.isArray(node)) return node.map(walk)
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(node)) out[storableString(key)] = walk(child)
    return out
  }
  return JSON.stringify(value)?.search(/\\u0000|\\ud[89a-f]/i) === -1 ? value : walk(value) as T
}

/** `JSON.stringify(value)` of what `storableJson` keeps: one serialisation on the hot path. */
export function storableJsonText (value: unknown): string {
  const text = JSON.stringify(value)
  return text.search(/\\u0000|\\ud[89a-f]/i) === -1 ? text : JSON.stringify(storableJson(value))
}

/** Why a value was left out of a row: the column (`table.column`) and the reason, never the value. */
export interface UnstorableValue {
  column: string
  reason: string
}

/**
 * A time Postgres can store as JavaScript writes it: years 1 to 9999 UTC. JavaScript dates reach
 * year 0, negative years and +275760, which `toISOString` spells in forms Postgres refuses.
 * @returns the date, or null when it is outside that range (or invalid)
 */
export function storableTimestamp (value: Date | null | undefined): Date | null {
  if (!value) return null
  const year = value.getUTCFullYear()
  return Number.isNaN(year) || year < 1 || year > 9999 ? null : value
}

/** The integers each integer column type holds; bigint columns read as numbers stay exact. */
const INTEGER_RANGES: Record<string, readonly [number, number, string]> = {
  PgSmallInt: [-32768, 32767, 'smallint'],
  PgInteger: [-2147483648, 2147483647, 'integer'],
  PgBigInt53: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'bigint read as a number']
}

function whyUnstorable (columnType: string, value: unknown): string | null {
  const range = INTEGER_RANGES[columnType]
  if (range && typeof value === 'number') {
    if (!Number.isInteger(value)) return 'not an integer'
    return value < range[0] || value > range[1] ? `out of range for ${range[2]}` : null
  }
  if (columnType === 'PgTimestamp' && value instanceof Date) {
    return storableTimestamp(value) === null ? 'not a time Postgres can store (years 1 to 9999)' : null
  }
  return null
}

/**
 * The one conversion every writer of a table applies before an insert or update: each value that
 * its column cannot hold (an integer out of the column's range, a time outside years 1 to 9999)
 * becomes null and is reported in `unstorable`; strings and JSON lose what Postgres refuses in
 * text. A value the receiver does not rely on must never fail the write.
 * @param table the Drizzle table the row is written to
 * @param row values keyed by the table's property names (SQL expressions pass through)
 * @param unstorable receives one entry per value left out
 * @throws Error naming the column when a NOT NULL column's value cannot be stored
 */
export function storableRow<T extends Record<string, unknown>> (
  table: Table,
  row: T,
  unstorable: UnstorableValue[]
): T {
  const columns = getTableColumns(table)
  const out: Record<string, unknown> = { ...row }
  for (const [key, value] of Object.entries(row)) {
    const column = columns[key]
    if (!column || value === null || value === undefined) continue
    if (typeof value === 'string') {
      out[key] = storableString(value)
      continue
    }
    if (column.dataType === 'json') {
      out[key] = storableJson(value)
      continue
    }
    const reason = whyUnstorable(column.columnType, value)
    if (reason === null) continue
    const name = `${getTableName(table)}.${column.name}`
    if (column.notNull) throw new Error(`${name}: ${reason}`)
    out[key] = null
    unstorable.push({ column: name, reason })
  }
  return out as T
}

import { DrizzleQueryError } from 'drizzle-orm'
import { maskEmails } from 'fastify-firstpromoter'
import postgres from 'postgres'

const MAX_LENGTH = 2000

function postgresCause (err: unknown): postgres.PostgresError | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof postgres.PostgresError) return e
  }
  return null
}

/**
 * The text of an error fit for `last_error` columns and log lines. A failed query gives the
 * Postgres code and message only: Drizzle's own message repeats the query's parameters, and
 * Postgres's `detail` the failing row, both full of personal data. Any e-mail address left in the
 * text is masked.
 * @returns at most 2000 characters
 */
export function errorText (err: unknown): string {
  const pg = postgresCause(err)
  let text: string
  if (pg) text = `${pg.message} (Postgres ${pg.code})`
  else if (err instanceof DrizzleQueryError) text = err.cause instanceof Error ? `database query failed: ${err.cause.message}` : 'database query failed'
  else text = err instanceof Error ? err.message : String(err)
  return maskEmails(text).slice(0, MAX_LENGTH)
}

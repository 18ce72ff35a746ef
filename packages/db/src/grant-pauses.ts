import { and, asc, gt, inArray, sql } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
import { ALL_UNITS, fulfilments, grantPauses } from './schema.js'

export type GrantPause = typeof grantPauses.$inferSelect

/** What is paused: every unit (`all`) and/or the units paused one by one, with when and by whom. */
export interface GrantPauseStatus {
  all: GrantPause | null
  units: GrantPause[]
}

/**
 * Pauses the grants of one unit, or of every unit when `unit` is omitted. Pausing what is already
 * paused keeps the pause as it was (its time and author).
 * @returns the pause now in force, and whether this call created it
 */
export async function pauseGrants (
  db: DbOrTx,
  options: { unit?: string, by: string }
): Promise<{ pause: GrantPause, created: boolean }> {
  const scope = options.unit ?? ALL_UNITS
  const [created] = await db.insert(grantPauses).values({ scope, pausedBy: options.by })
    .onConflictDoNothing()
    .returning()
  if (created) return { pause: created, created: true }
  const [existing] = await db.select().from(grantPauses).where(inArray(grantPauses.scope, [scope]))
  // Resumed between the two statements: pausing again creates it.
  return existing ? { pause: existing, created: false } : pauseGrants(db, options)
}

/**
 * Lifts the pause of one unit, or every pause (all units and each unit's) when `unit` is omitted.
 * @returns the pauses lifted (none when nothing was paused)
 */
export async function resumeGrants (db: DbOrTx, options: { unit?: string } = {}): Promise<GrantPause[]> {
  const query = db.delete(grantPauses)
  return options.unit === undefined
    ? query.returning()
    : query.where(inArray(grantPauses.scope, [options.unit])).returning()
}

/** Every pause in force. */
export async function getGrantPauses (db: DbOrTx): Promise<GrantPauseStatus> {
  const rows = await db.select().from(grantPauses).orderBy(asc(grantPauses.pausedAt), asc(grantPauses.scope))
  return {
    all: rows.find((r) => r.scope === ALL_UNITS) ?? null,
    units: rows.filter((r) => r.scope !== ALL_UNITS)
  }
}

/** An SQL condition: the grants of `unit` (a column or value) are paused. */
export const unitPaused = (unit: unknown) => sql`exists (select 1 from ${grantPauses} where ${grantPauses.scope} in (${ALL_UNITS}, ${unit}))`

/**
 * One page of fulfilments waiting for a grant (`pending` or `granting`) whose unit is in `units`
 * (every unit when omitted) and is not paused, ordered by id: the grants a resume lets run.
 */
export async function listResumable (
  db: DbOrTx,
  options: { units?: string[], afterId?: number, limit?: number } = {}
): Promise<Array<{ id: number, unit: string, amount: number }>> {
  const rows = await db.select({ id: fulfilments.id, unit: fulfilments.unit, amount: fulfilments.amount })
    .from(fulfilments)
    .where(and(
      inArray(fulfilments.state, ['pending', 'granting']),
      options.units ? inArray(fulfilments.unit, options.units) : undefined,
      options.afterId !== undefined ? gt(fulfilments.id, options.afterId) : undefined,
      sql`not ${unitPaused(fulfilments.unit)}`
    ))
    .orderBy(asc(fulfilments.id))
    .limit(options.limit ?? 500)
  return rows.map((r) => ({ ...r, amount: Number(r.amount) }))
}

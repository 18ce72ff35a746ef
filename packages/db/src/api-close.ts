import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import { fulfilments, type ApiCloseState } from './schema.js'

/*
 * When a fulfilment must also be closed through FirstPromoter's API (`api_close`), in one place.
 * FirstPromoter closes a fulfilment itself when it is answered 200. One answered "pending" (a 202),
 * or not known to have been answered 200 (`awaiting_answer`), is closed by us once granted, if API
 * credentials exist: at once when the 202 is known (`answered_pending`), otherwise by the sweeper
 * after a grace period, unless the 200 is noted first.
 */

/** `api_close` is due: a close not yet sent (or to be sent again). */
export const closePending: SQL = sql`${fulfilments.apiClose} = 'pending'`

/**
 * `api_close` after a grant commits: due when FirstPromoter was (or may have been) told "pending"
 * and we can close through the API; otherwise unchanged.
 * @param closeViaApi a boolean value or placeholder: whether API credentials exist
 */
export function apiCloseAfterGrant (closeViaApi: SQLWrapper | boolean): SQL {
  return sql`case when ${closeViaApi}::boolean and (${fulfilments.answeredPending} or ${fulfilments.awaitingAnswer}) then 'pending' else ${fulfilments.apiClose} end`
}

/** `api_close` once a 200 is answered: FirstPromoter closes it itself, a close not yet sent is not needed. */
export const apiCloseAfterAnswered200: SQL = sql`case when ${closePending} then 'not_needed' else ${fulfilments.apiClose} end`

/** Whether a 200 answer changes anything: the fulfilment awaits its answer, or a close is due. */
export const changedByAnswered200: SQL = sql`(${fulfilments.awaitingAnswer} or ${closePending})`

/**
 * Close through the API now, not after the sweeper's grace: the close is due and FirstPromoter is
 * known to have been told "pending".
 */
export function closeDueNow (row: { apiClose: ApiCloseState, answeredPending: boolean }): boolean {
  return row.apiClose === 'pending' && row.answeredPending
}

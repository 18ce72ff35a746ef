import {
  assertId,
  createTransport,
  isRecordWithId,
  positiveInt,
  unexpectedBody,
  type ClientOptions
} from './client.js'
import { listFrom, walkPages } from './paginate.js'
import type { V2BatchResult, V2BatchStatus, V2Payout } from './types.js'

export const DEFAULT_V2_BASE_URL = 'https://api.firstpromoter.com/api/v2/company'
export const V2_MAX_PER_PAGE = 100

export interface V2ClientOptions extends ClientOptions {
  /** Sent as `ACCOUNT-ID`. */
  accountId: string
}

export interface V2ListPayoutsInput {
  status?: V2Payout['status']
  page?: number
  /** At most 100. */
  perPage?: number
}

/**
 * A client for FirstPromoter's v2 company API: Bearer key plus `ACCOUNT-ID`, JSON bodies.
 * Give it a shared `limiter` (see createRedisRateLimiter) when several processes call v2.
 * @throws TypeError when an option is invalid
 */
export function createV2Client (options: V2ClientOptions) {
  if (typeof options.accountId !== 'string' || options.accountId.trim() === '') {
    throw new TypeError('FirstPromoter client: accountId must be a non-empty string')
  }
  const http = createTransport(options, {
    defaultBaseUrl: DEFAULT_V2_BASE_URL,
    authHeaders: { authorization: `Bearer ${options.apiKey}`, 'ACCOUNT-ID': options.accountId }
  })

  async function bulk (path: string, ids: ReadonlyArray<number | string>): Promise<V2BatchResult> {
    if (!Array.isArray(ids) || ids.length === 0) {
      throw new TypeError('FirstPromoter client: ids must be a non-empty array')
    }
    const body = { ids: ids.map(id => assertId(id)) }
    const res = await http.request({ method: 'POST', path, json: body })
    const batch = res.body !== null && typeof res.body === 'object' && !Array.isArray(res.body)
      ? res.body as V2BatchStatus
      : null
    return { status: res.status, body: batch }
  }

  /**
   * Marks payouts paid. More than 5 ids are processed asynchronously (status 202).
   * @returns the status (200 or 202) and the batch status body
   * @throws FirstPromoterApiError on any non-2xx answer
   */
  async function markPayoutsPaid (ids: ReadonlyArray<number | string>): Promise<V2BatchResult> {
    return await bulk('/payouts/mark_as_paid', ids)
  }

  /**
   * Marks non-monetary commissions fulfilled (the v2 fulfilment flow).
   * @returns the status (200 or 202) and the batch status body
   * @throws FirstPromoterApiError on any non-2xx answer
   */
  async function markCommissionsFulfilled (ids: ReadonlyArray<number | string>): Promise<V2BatchResult> {
    return await bulk('/commissions/mark_fulfilled', ids)
  }

  /** One page of payouts, `filters[status]` applied when given. */
  async function listPayouts (input: V2ListPayoutsInput = {}): Promise<V2Payout[]> {
    const query = new URLSearchParams()
    if (input.status !== undefined) query.set('filters[status]', input.status)
    if (input.page !== undefined) query.set('page', String(positiveInt(input.page, 'page')))
    if (input.perPage !== undefined) {
      const perPage = positiveInt(input.perPage, 'perPage')
      if (perPage > V2_MAX_PER_PAGE) throw new TypeError(`FirstPromoter client: perPage must be at most ${V2_MAX_PER_PAGE}`)
      query.set('per_page', String(perPage))
    }
    const res = await http.request({ method: 'GET', path: '/payouts', query })
    const list = listFrom(res.body)
    if (list === undefined) throw unexpectedBody('GET /payouts', 'an array of payouts', res)
    return list.filter((item): item is V2Payout => isRecordWithId(item))
  }

  /** Every payout with `status`, 100 a page, stopping like the v1 walk. */
  function listAllPayouts (filter: { status?: V2Payout['status'], maxPages?: number } = {}): AsyncGenerator<V2Payout, void, undefined> {
    return walkPages(
      async (page, perPage) => await listPayouts({ ...filter, page, perPage }),
      { perPage: V2_MAX_PER_PAGE, ...(filter.maxPages === undefined ? {} : { maxPages: filter.maxPages }) }
    )
  }

  return { markPayoutsPaid, markCommissionsFulfilled, listPayouts, listAllPayouts, baseUrl: http.baseUrl }
}

export type V2Client = ReturnType<typeof createV2Client>

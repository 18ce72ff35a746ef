import {
  assertId,
  createTransport,
  isRecordWithId,
  positiveInt,
  unexpectedBody,
  type ClientOptions
} from './client.js'
import { FirstPromoterApiError } from './errors.js'
import { listFrom, walkPages } from './paginate.js'
import { defaultSleep } from './retry.js'
import type { V2BatchResult, V2BatchStatus, V2Commission, V2CommissionStatus, V2Payout } from './types.js'

export const DEFAULT_V2_BASE_URL = 'https://api.firstpromoter.com/api/v2/company'
export const V2_MAX_PER_PAGE = 100
/** `waitForBatch` polls this often by default (each poll counts against the 400 a minute). */
export const DEFAULT_BATCH_POLL_INTERVAL_MS = 2000
/** `waitForBatch` gives up after this long by default. */
export const DEFAULT_BATCH_TIMEOUT_MS = 120_000

/** Batch statuses after which nothing changes any more. */
const FINAL_BATCH_STATUSES = new Set(['completed', 'failed', 'stopped'])

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

/** `GET /commissions` filters, sent as `filters[...]`. */
export interface V2CommissionFilter {
  status?: V2CommissionStatus
  /** `filters[fulfilled]=yes|no`: non-monetary commissions marked fulfilled, or not yet. */
  fulfilled?: boolean
  /** One unit (`points`, `free_months`…); the docs show no way to ask for several at once. */
  unit?: string
  promoterId?: number | string
  campaignId?: number | string
}

export interface V2ListCommissionsInput extends V2CommissionFilter {
  /** `ids[]`: only these commissions. */
  ids?: ReadonlyArray<number | string>
  page?: number
  /** At most 100; the API's default is 20. */
  perPage?: number
}

export interface WaitForBatchOptions {
  /** Between polls. Default 2000. */
  intervalMs?: number
  /** Give up after about this long (counted in polls, so an injected `sleep` is honoured). Default 120000. */
  timeoutMs?: number
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
    authHeaders: { authorization: `Bearer ${options.apiKey}`, 'ACCOUNT-ID': options.accountId },
    // v2 answers 401 with no body for a wrong key and for a wrong account id alike.
    summaries: { unauthorized: 'rejected the API key or the account id' }
  })
  const sleep = options.sleep ?? defaultSleep

  async function bulk (path: string, ids: ReadonlyArray<number | string>): Promise<V2BatchResult> {
    if (!Array.isArray(ids) || ids.length === 0) {
      throw new TypeError('FirstPromoter client: ids must be a non-empty array')
    }
    const body = { ids: ids.map(id => assertId(id)) }
    const res = await http.request({ method: 'POST', path, json: body })
    const batch = res.body !== null && typeof res.body === 'object' && !Array.isArray(res.body)
      ? res.body as V2BatchStatus
      : null
    return { status: res.status, body: batch, async: res.status === 202 }
  }

  function perPageOf (perPage: number): string {
    const n = positiveInt(perPage, 'perPage')
    if (n > V2_MAX_PER_PAGE) throw new TypeError(`FirstPromoter client: perPage must be at most ${V2_MAX_PER_PAGE}`)
    return String(n)
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
   * Marks non-monetary commissions fulfilled (the v2 fulfilment flow). Up to 5 ids are done
   * when it returns (200); more are a batch that runs later (202, `async: true`): follow it with
   * `waitForBatch(result.body.id)`, and read its `failed_count` and `processing_errors`.
   * @returns the status (200 or 202), the batch status body, and whether it runs asynchronously
   * @throws FirstPromoterApiError on any non-2xx answer (404 for an unknown id, 422 for one that is
   * not an approved non-monetary commission, on the synchronous path)
   */
  async function markCommissionsFulfilled (ids: ReadonlyArray<number | string>): Promise<V2BatchResult> {
    return await bulk('/commissions/mark_fulfilled', ids)
  }

  /** One page of payouts, `filters[status]` applied when given. */
  async function listPayouts (input: V2ListPayoutsInput = {}): Promise<V2Payout[]> {
    const query = new URLSearchParams()
    if (input.status !== undefined) query.set('filters[status]', input.status)
    if (input.page !== undefined) query.set('page', String(positiveInt(input.page, 'page')))
    if (input.perPage !== undefined) query.set('per_page', perPageOf(input.perPage))
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

  /**
   * One page of commissions (a bare array in the docs; `{ data: [...] }` is accepted too).
   * @throws TypeError for an invalid filter; FirstPromoterApiError on a failed call
   */
  async function listCommissions (input: V2ListCommissionsInput = {}): Promise<V2Commission[]> {
    const query = new URLSearchParams()
    for (const id of input.ids ?? []) query.append('ids[]', String(assertId(id)))
    if (input.status !== undefined) query.set('filters[status]', nonEmpty(input.status, 'status'))
    if (input.fulfilled !== undefined) query.set('filters[fulfilled]', input.fulfilled ? 'yes' : 'no')
    if (input.unit !== undefined) query.set('filters[unit]', nonEmpty(input.unit, 'unit'))
    if (input.promoterId !== undefined) query.set('filters[promoter_id]', String(assertId(input.promoterId, 'promoterId')))
    if (input.campaignId !== undefined) query.set('filters[campaign_id]', String(assertId(input.campaignId, 'campaignId')))
    if (input.page !== undefined) query.set('page', String(positiveInt(input.page, 'page')))
    if (input.perPage !== undefined) query.set('per_page', perPageOf(input.perPage))
    const res = await http.request({ method: 'GET', path: '/commissions', query })
    const list = listFrom(res.body)
    if (list === undefined) throw unexpectedBody('GET /commissions', 'an array of commissions', res)
    return list.filter((item): item is V2Commission => isRecordWithId(item))
  }

  /**
   * Every commission matching `filter`, 100 a page. For reconciliation:
   * `{ status: 'approved', fulfilled: false }` lists what is owed and not yet marked.
   */
  function listAllCommissions (
    filter: V2CommissionFilter & { maxPages?: number } = {}
  ): AsyncGenerator<V2Commission, void, undefined> {
    const { maxPages, ...rest } = filter
    return walkPages(
      async (page, perPage) => await listCommissions({ ...rest, page, perPage }),
      { perPage: V2_MAX_PER_PAGE, ...(maxPages === undefined ? {} : { maxPages }) }
    )
  }

  /**
   * One commission, with its `promoter_campaign` (the promoter) and `referral`. The docs have no
   * `GET /commissions/{id}`; this asks `GET /commissions?ids[]=<id>`.
   * @returns the commission, or null when FirstPromoter has none with that id
   */
  async function getCommission (id: number | string): Promise<V2Commission | null> {
    const wanted = assertId(id)
    const list = await listCommissions({ ids: [wanted] })
    // A server that ignored ids[] would answer a page of others: only an exact match counts.
    return list.find(c => Number(c.id) === wanted) ?? null
  }

  /**
   * A batch process's current status (`GET /batch_processes/{id}`).
   * @throws FirstPromoterApiError (`not_found` for an unknown id)
   */
  async function getBatch (id: number | string): Promise<V2BatchStatus> {
    const batchId = assertId(id, 'batch id')
    const endpoint = `/batch_processes/${batchId}`
    const res = await http.request({ method: 'GET', path: endpoint })
    if (!isRecordWithId(res.body)) throw unexpectedBody(`GET ${endpoint}`, 'a batch process', res)
    return res.body as V2BatchStatus
  }

  /**
   * Polls a batch until it is `completed`, `failed` or `stopped`. A completed batch may still have
   * failed items: check `failed_count` and `processing_errors`.
   * @returns the batch in its final state
   * @throws FirstPromoterApiError `timeout` (retryable) when it is still running after `timeoutMs`;
   * any error of `getBatch`
   */
  async function waitForBatch (id: number | string, opts: WaitForBatchOptions = {}): Promise<V2BatchStatus> {
    const intervalMs = opts.intervalMs ?? DEFAULT_BATCH_POLL_INTERVAL_MS
    const timeoutMs = opts.timeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new TypeError('FirstPromoter client: intervalMs must be a positive number')
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError('FirstPromoter client: timeoutMs must be a non-negative number')
    const polls = Math.floor(timeoutMs / intervalMs)
    let batch = await getBatch(id)
    for (let poll = 1; !FINAL_BATCH_STATUSES.has(String(batch.status)) && poll <= polls; poll++) {
      await sleep(intervalMs)
      batch = await getBatch(id)
    }
    if (FINAL_BATCH_STATUSES.has(String(batch.status))) return batch
    const endpoint = `GET /batch_processes/${assertId(id, 'batch id')}`
    throw new FirstPromoterApiError(
      `FirstPromoter batch ${String(batch.id ?? id)} is still ${String(batch.status)} after ${timeoutMs} ms (${endpoint})`,
      { code: 'timeout', retryable: true, body: batch, endpoint, attempts: polls + 1 }
    )
  }

  return {
    markPayoutsPaid,
    markCommissionsFulfilled,
    listPayouts,
    listAllPayouts,
    listCommissions,
    listAllCommissions,
    getCommission,
    getBatch,
    waitForBatch,
    baseUrl: http.baseUrl
  }
}

function nonEmpty (value: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`FirstPromoter client: ${what} must be a non-empty string`)
  return value
}

export type V2Client = ReturnType<typeof createV2Client>

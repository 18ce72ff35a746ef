import {
  assertId,
  createTransport,
  isRecordWithId,
  positiveInt,
  unexpectedBody,
  type ClientOptions
} from './client.js'
import { listFrom, walkPages, type PageWalkOptions } from './paginate.js'
import type { Payout, PayoutStatus } from './types.js'

export const DEFAULT_V1_BASE_URL = 'https://firstpromoter.com/api/v1'

export type V1ClientOptions = ClientOptions

export interface UpdatePayoutInput {
  /** The payout id; a `fulfilment_pending` event's `data.id`. */
  id: number | string
  status: 'pending' | 'processing' | 'completed'
}

export interface V1PayoutFilter {
  status?: PayoutStatus
  campaignId?: number | string
  promoterId?: number | string
}

export interface V1ListPayoutsInput extends V1PayoutFilter {
  page?: number
  perPage?: number
}

const UPDATE_STATUSES = new Set(['pending', 'processing', 'completed'])

/**
 * A client for FirstPromoter's v1 payouts API: `X-API-KEY` auth, form-encoded parameters.
 * @throws TypeError when an option is invalid
 */
export function createV1Client (options: V1ClientOptions) {
  const http = createTransport(options, {
    defaultBaseUrl: DEFAULT_V1_BASE_URL,
    authHeaders: { 'X-API-KEY': options.apiKey }
  })

  /**
   * Sets a payout's status; `completed` closes a pending fulfilment. Idempotent.
   * @returns the payout as FirstPromoter now has it
   * @throws FirstPromoterApiError `not_found` for an unknown id, `unprocessable` for a refused status
   */
  async function updatePayout (input: UpdatePayoutInput): Promise<Payout> {
    const id = assertId(input.id)
    if (!UPDATE_STATUSES.has(input.status)) {
      throw new TypeError(`FirstPromoter client: status must be pending, processing or completed, got ${String(input.status)}`)
    }
    const form = new URLSearchParams({ id: String(id), status: input.status })
    const res = await http.request({ method: 'PUT', path: '/payouts/update', form })
    if (!isPayoutLike(res.body)) throw unexpectedBody('PUT /payouts/update', 'a payout object', res)
    return res.body
  }

  /**
   * One page of payouts, e.g. the pending fulfilments for reconciliation.
   * @returns the payouts on that page (an empty array past the last page)
   */
  async function listPayouts (input: V1ListPayoutsInput = {}): Promise<Payout[]> {
    const query = filterQuery(input)
    if (input.page !== undefined) query.set('page', String(positiveInt(input.page, 'page')))
    if (input.perPage !== undefined) query.set('per_page', String(positiveInt(input.perPage, 'perPage')))
    const res = await http.request({ method: 'GET', path: '/payouts/list', query })
    const list = listFrom(res.body)
    if (list === undefined) throw unexpectedBody('GET /payouts/list', 'an array of payouts', res)
    return list.filter(isPayoutLike)
  }

  /**
   * Every payout matching `filter`, page by page (see {@link walkPages} for when it stops).
   * Payouts closed while the walk runs shift later pages: run reconciliation again rather
   * than trusting one pass to see everything.
   */
  function listAllPayouts (filter: V1PayoutFilter & PageWalkOptions = {}): AsyncGenerator<Payout, void, undefined> {
    return walkPages(async (page, perPage) => await listPayouts({ ...filter, page, perPage }), filter)
  }

  return { updatePayout, listPayouts, listAllPayouts, baseUrl: http.baseUrl }
}

export type V1Client = ReturnType<typeof createV1Client>

function filterQuery (filter: V1PayoutFilter): URLSearchParams {
  const query = new URLSearchParams()
  if (filter.status !== undefined) query.set('status', filter.status)
  if (filter.campaignId !== undefined) query.set('campaign_id', String(assertId(filter.campaignId, 'campaignId')))
  if (filter.promoterId !== undefined) query.set('promoter_id', String(assertId(filter.promoterId, 'promoterId')))
  return query
}

function isPayoutLike (value: unknown): value is Payout {
  return isRecordWithId(value)
}

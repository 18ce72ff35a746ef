import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Payout, PayoutPromoter, V2BatchStatus } from './types.js'

/**
 * A local stand-in for FirstPromoter's REST API (neither API has a sandbox). It speaks the
 * paths, headers, status codes and error bodies this package's clients use, keeps payouts in
 * memory, records every request, and can be told to fail. For tests only.
 */

export interface FakeFirstPromoterOptions {
  /** v1 `X-API-KEY` and v2 Bearer token. Default `fp-test-key`. */
  apiKey?: string
  /** v2 `ACCOUNT-ID`. Default `acc_test`. */
  accountId?: string
  /** Payouts to start with (see addPayout). */
  payouts?: Array<Partial<Payout>>
  /** v1 list page size when `per_page` is not sent. Default 20. */
  defaultPerPage?: number
  /** v2 requests allowed per window (per account), then 429 with `Retry-After`. Default 400, as documented. */
  v2RateLimitPerMinute?: number
  /** The rate limit's window. Default 60000. */
  v2RateLimitWindowMs?: number
  /**
   * An asynchronous v2 batch (more than 5 ids) stays `pending` this long, then `in_progress` as
   * long again, then completes. Default 50. `settleBatches()` completes every batch at once.
   */
  batchDelayMs?: number
}

/** A misbehaviour for the next n requests (optionally only those to `path`, e.g. `/api/v1/payouts/update`). */
export type FakeFailure =
  | { status: number, retryAfter?: number | string, body?: unknown, path?: string }
  /** Hold the answer this long, then handle the request normally (a slow server still acts). */
  | { timeoutMs: number, path?: string }
  /** Destroy the connection without an answer (a network error for the client). */
  | { drop: true, path?: string }

export interface RecordedRequest {
  method: string
  /** The pathname, e.g. `/api/v1/payouts/update`. */
  path: string
  /** The path with its query string, as sent. */
  url: string
  headers: IncomingHttpHeaders
  /** The query as an object (a repeated parameter keeps its last value; see `params`). */
  query: Record<string, string>
  params: URLSearchParams
  /** Form fields as an object, parsed JSON, the raw text otherwise, or undefined when empty. */
  body: unknown
  rawBody: string
  /** The status the fake answered; undefined until answered or when the connection was dropped. */
  status?: number
  /** The headers of the answer (lowercase names), beyond `content-type`. */
  responseHeaders?: Record<string, string>
  /** The failure injected into this request, if any. */
  injected?: FakeFailure
}

/**
 * A v2 commission as `GET /commissions` returns it. `fulfillment_status` is the fake's own record
 * of `mark_fulfilled` (the API's field for it is not documented; `filters[fulfilled]` reads it).
 */
export interface FakeCommission {
  id: number
  status: string
  fulfillment_status: 'pending' | 'fulfilled'
  unit: string
  amount: number
  is_paid?: boolean
  created_at?: string
  promoter_campaign?: {
    id: number
    campaign_id: number
    promoter_id: number
    promoter: { id: number, email: string | null, name: string | null }
    campaign?: { id: number, name: string | null }
  } | null
  referral?: { id: number, email: string | null, uid: string | null } | null
  [key: string]: unknown
}

/** `addCommission`'s input: any commission field, plus shortcuts for the promoter and campaign ids. */
export type FakeCommissionInput = Partial<FakeCommission> & { promoterId?: number, campaignId?: number }

interface FakeBatch extends V2BatchStatus {
  id: number
  status: 'pending' | 'in_progress' | 'completed' | 'failed' | 'stopped'
}

const V1 = '/api/v1'
const V2 = '/api/v2/company'
const UPDATE_STATUSES = new Set(['pending', 'processing', 'completed'])
const NON_MONETARY = new Set(['points', 'credits', 'free_months', 'mon_discount', 'discount_per'])
/** Up to this many ids a v2 bulk action runs at once (200); more are a batch (202). */
const SYNC_BULK_LIMIT = 5
const MAX_PER_PAGE = 100

/**
 * Starts the fake on 127.0.0.1, on a free port.
 * @returns the fake: `url` (v1 base), `v2Url`, state, `requests`, `failNext`, `close`
 */
export async function startFakeFirstPromoter (options: FakeFirstPromoterOptions = {}) {
  const apiKey = options.apiKey ?? 'fp-test-key'
  const accountId = options.accountId ?? 'acc_test'
  const defaultPerPage = options.defaultPerPage ?? 20
  const v2PerWindow = options.v2RateLimitPerMinute ?? 400
  const v2WindowMs = options.v2RateLimitWindowMs ?? 60_000
  const batchDelayMs = options.batchDelayMs ?? 50
  const payouts = new Map<number, Payout>()
  const commissions = new Map<number, FakeCommission>()
  const batches = new Map<number, FakeBatch>()
  /** Work left for each unfinished batch: the commission ids to mark. */
  const batchWork = new Map<number, number[]>()
  let rateWindow = { startedAt: Date.now(), count: 0 }
  const requests: RecordedRequest[] = []
  const failures: Array<{ remaining: number, failure: FakeFailure }> = []
  const timers = new Set<NodeJS.Timeout>()
  let nextId = 1000
  let nextBatchId = 1

  function addPayout (input: Partial<Payout> = {}): Payout {
    const id = input.id ?? nextId++
    const promoter: PayoutPromoter = {
      id: 5000 + id,
      cust_id: '',
      email: `promoter${id}@example.com`,
      ...(input.promoter ?? {})
    }
    const payout: Payout = {
      status: 'pending',
      amount: 1,
      unit: 'free_months',
      date_paid: null,
      due_date: null,
      created_at: new Date().toISOString(),
      has_issues: false,
      reward: null,
      campaign: { id: 1, name: 'Campaign' },
      ...input,
      id,
      promoter: input.promoter === null ? null : promoter
    }
    payouts.set(id, payout)
    return payout
  }

  function addCommission (input: FakeCommissionInput = {}): FakeCommission {
    const { promoterId: promoterIdInput, campaignId: campaignIdInput, ...fields } = input
    const id = fields.id ?? nextId++
    const promoterId = promoterIdInput ?? 5000 + id
    const campaignId = campaignIdInput ?? 1
    const commission: FakeCommission = {
      status: 'approved',
      fulfillment_status: 'pending',
      unit: 'free_months',
      amount: 1,
      is_paid: false,
      created_at: new Date().toISOString(),
      promoter_campaign: {
        id: 40_000 + promoterId,
        campaign_id: campaignId,
        promoter_id: promoterId,
        promoter: { id: promoterId, email: `promoter${promoterId}@example.com`, name: null },
        campaign: { id: campaignId, name: 'Campaign' }
      },
      referral: { id: 7000 + id, email: `customer${id}@example.com`, uid: `user_${id}` },
      ...fields,
      id
    }
    commissions.set(id, commission)
    return commission
  }

  for (const p of options.payouts ?? []) addPayout(p)

  function failNext (n: number, failure: FakeFailure): void {
    if (!Number.isInteger(n) || n < 1) throw new TypeError('failNext: n must be a positive integer')
    failures.push({ remaining: n, failure })
  }

  function takeFailure (path: string): FakeFailure | undefined {
    const entry = failures.find(f => f.failure.path === undefined || f.failure.path === path)
    if (entry === undefined) return undefined
    if (--entry.remaining === 0) failures.splice(failures.indexOf(entry), 1)
    return entry.failure
  }

  /** Requests that tried to close `id`: v1 update, v2 mark_as_paid and mark_fulfilled. */
  function closeCalls (id: number): RecordedRequest[] {
    return requests.filter(r => {
      if (r.method === 'PUT' && r.path === `${V1}/payouts/update`) return Number((r.body as Record<string, string> | undefined)?.id ?? r.query.id) === id
      if (r.path === `${V2}/payouts/mark_as_paid` || r.path === `${V2}/commissions/mark_fulfilled`) {
        const ids = (r.body as { ids?: unknown } | undefined)?.ids
        return Array.isArray(ids) && ids.some(x => Number(x) === id)
      }
      return false
    })
  }

  const server = createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { raw += chunk })
    req.on('end', () => { onRequest(req, res, raw) })
  })

  function onRequest (req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://fake')
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      url: req.url ?? '/',
      headers: req.headers,
      query: Object.fromEntries(url.searchParams),
      params: url.searchParams,
      body: parseBody(req.headers['content-type'], raw),
      rawBody: raw
    }
    requests.push(record)
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status
      record.responseHeaders = headers
      if (res.destroyed || res.writableEnded) return
      // No body at all (v2's 401): no content-type either.
      if (body === undefined) {
        res.writeHead(status, headers).end()
        return
      }
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8'
      res.writeHead(status, { 'content-type': type, ...headers }).end(text)
    }

    const failure = takeFailure(record.path)
    if (failure !== undefined) {
      record.injected = failure
      if ('drop' in failure) {
        req.socket.destroy()
        return
      }
      if ('timeoutMs' in failure) {
        const timer = setTimeout(() => { timers.delete(timer); route(record, send) }, failure.timeoutMs)
        timers.add(timer)
        return
      }
      const headers: Record<string, string> = failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) }
      const fallback = failure.status === 429 ? { error: 'Too many requests' } : { error: 'Internal server error' }
      send(failure.status, failure.body ?? fallback, headers)
      return
    }
    route(record, send)
  }

  type Send = (status: number, body: unknown, headers?: Record<string, string>) => void

  function route (r: RecordedRequest, send: Send): void {
    if (r.path.startsWith(`${V1}/`)) {
      if (r.headers['x-api-key'] !== apiKey) return send(401, 'HTTP Token: Access denied.\n')
      if (r.method === 'PUT' && r.path === `${V1}/payouts/update`) return v1Update(r, send)
      if (r.method === 'GET' && r.path === `${V1}/payouts/list`) return v1List(r, send)
    } else if (r.path.startsWith(`${V2}/`)) {
      // The v2 reference documents 401 with no body; a wrong account id is refused the same way.
      if (r.headers.authorization !== `Bearer ${apiKey}` || r.headers['account-id'] !== accountId) return send(401, undefined)
      const retryAfter = overRateLimit()
      if (retryAfter !== null) {
        return send(429, { message: 'Too many requests', code: 'too_many_requests' }, { 'retry-after': String(retryAfter) })
      }
      if (r.method === 'POST' && r.path === `${V2}/payouts/mark_as_paid`) return v2Bulk(r, send)
      if (r.method === 'POST' && r.path === `${V2}/commissions/mark_fulfilled`) return v2MarkFulfilled(r, send)
      if (r.method === 'GET' && r.path === `${V2}/commissions`) return v2ListCommissions(r, send)
      if (r.method === 'GET' && r.path === `${V2}/payouts`) return v2List(r, send)
      if (r.method === 'GET' && r.path === `${V2}/batch_processes`) return v2ListBatches(r, send)
      const batch = /^\/api\/v2\/company\/batch_processes\/([0-9]+)$/.exec(r.path)
      if (r.method === 'GET' && batch !== null) return v2ShowBatch(Number(batch[1]), send)
      return send(404, { message: 'Not found', code: 'not_found' })
    }
    send(404, { error: 'Not found' })
  }

  /** Counts a v2 request in the current fixed window; over the limit, the seconds until it ends. */
  function overRateLimit (): number | null {
    const now = Date.now()
    if (now - rateWindow.startedAt >= v2WindowMs) rateWindow = { startedAt: now, count: 0 }
    rateWindow.count++
    if (rateWindow.count <= v2PerWindow) return null
    return Math.max(1, Math.ceil((rateWindow.startedAt + v2WindowMs - now) / 1000))
  }

  function v1Update (r: RecordedRequest, send: Send): void {
    // v1 reads form and query fields; a JSON body is ignored, as FirstPromoter documents form fields.
    const form = typeof r.body === 'object' && r.body !== null && isForm(r.headers) ? r.body as Record<string, string> : {}
    const params = { ...r.query, ...form }
    const payout = payouts.get(Number(params.id))
    if (params.id === undefined || payout === undefined) return send(404, { error: 'Payout not found' })
    if (params.status !== undefined) {
      if (!UPDATE_STATUSES.has(params.status)) return send(422, { error: `Status ${params.status} is not valid` })
      payout.status = params.status
      if (params.status === 'completed' && payout.date_paid == null) payout.date_paid = new Date().toISOString()
    }
    send(200, payout)
  }

  function v1List (r: RecordedRequest, send: Send): void {
    const { status, campaign_id: campaignId, promoter_id: promoterId } = r.query
    const list = [...payouts.values()]
      .filter(p => status === undefined || p.status === status)
      .filter(p => campaignId === undefined || String(p.campaign?.id) === campaignId)
      .filter(p => promoterId === undefined || String(p.promoter?.id) === promoterId)
      .sort((a, b) => a.id - b.id)
    send(200, paginate(list, r.query.page, r.query.per_page, defaultPerPage))
  }

  function v2Bulk (r: RecordedRequest, send: Send): void {
    const ids = (r.body as { ids?: unknown } | undefined)?.ids
    if (r.headers['content-type']?.startsWith('application/json') !== true || !Array.isArray(ids) || ids.length === 0) {
      return send(422, { error: 'ids must be a non-empty array' })
    }
    const unknown = ids.filter(id => !payouts.has(Number(id)))
    if (unknown.length > 0) return send(404, { error: 'Payout not found', ids: unknown })
    const now = new Date().toISOString()
    for (const id of ids) {
      const item = payouts.get(Number(id))
      if (item === undefined) continue
      item.status = 'completed'
      item.date_paid ??= now
    }
    const async = ids.length > SYNC_BULK_LIMIT
    const batch = newBatch(ids.length, 'mark_as_paid', now)
    // The payouts are paid at once; the answer still shows a batch in progress, as documented.
    Object.assign(batch, { status: 'completed', processed_count: ids.length, progress: 100 })
    send(async ? 202 : 200, { ...batch, ...(async ? { status: 'in_progress', processed_count: 0, progress: 0 } : {}) })
  }

  function newBatch (total: number, actionLabel: string, now = new Date().toISOString()): FakeBatch {
    const batch: FakeBatch = {
      id: nextBatchId++,
      status: 'pending',
      total,
      selected_total: total,
      processed_count: 0,
      failed_count: 0,
      action_label: actionLabel,
      progress: 0,
      processing_errors: [],
      meta: null,
      created_at: now,
      updated_at: now
    }
    batches.set(batch.id, batch)
    return batch
  }

  /** Why a commission cannot be marked fulfilled, or null when it can (a fulfilled one is a no-op). */
  function unmarkable (id: number): { status: 404 | 422, reason: string } | null {
    const c = commissions.get(id)
    if (c === undefined) return { status: 404, reason: `commission ${id} not found` }
    if (c.status !== 'approved') return { status: 422, reason: `commission ${id} is not approved` }
    if (!NON_MONETARY.has(c.unit)) return { status: 422, reason: `commission ${id} is not a non-monetary commission` }
    return null
  }

  /**
   * Up to 5 ids: all or nothing, at once (404 for an unknown id, 422 for one that is not an
   * approved non-monetary commission). More: 202 with a pending batch, processed later, each id
   * that cannot be marked recorded in the batch's `processing_errors`.
   */
  function v2MarkFulfilled (r: RecordedRequest, send: Send): void {
    const raw = (r.body as { ids?: unknown } | undefined)?.ids
    const ids = Array.isArray(raw) ? raw.map(id => typeof id === 'string' && /^[0-9]+$/.test(id) ? Number(id) : id) : []
    if (r.headers['content-type']?.startsWith('application/json') !== true || ids.length === 0 ||
      !ids.every((id): id is number => Number.isSafeInteger(id) && (id as number) > 0)) {
      return send(422, { message: 'ids must be a non-empty array of commission ids', code: 'unprocessable_entity' })
    }
    if (ids.length > SYNC_BULK_LIMIT) {
      const batch = newBatch(ids.length, 'mark_fulfilled')
      batchWork.set(batch.id, ids)
      scheduleBatch(batch)
      return send(202, { ...batch })
    }
    const problems = ids.map(unmarkable).filter(p => p !== null)
    const missing = problems.filter(p => p.status === 404)
    if (missing.length > 0) return send(404, { message: capitalise(missing.map(p => p.reason).join('; ')), code: 'not_found' })
    if (problems.length > 0) return send(422, { message: capitalise(problems.map(p => p.reason).join('; ')), code: 'unprocessable_entity' })
    for (const id of ids) commissions.get(id)!.fulfillment_status = 'fulfilled'
    const batch = newBatch(ids.length, 'mark_fulfilled')
    Object.assign(batch, { status: 'completed', processed_count: ids.length, progress: 100 })
    send(200, { ...batch })
  }

  function scheduleBatch (batch: FakeBatch): void {
    const started = setTimeout(() => {
      timers.delete(started)
      if (batch.status !== 'pending') return
      batch.status = 'in_progress'
      batch.updated_at = new Date().toISOString()
      const finished = setTimeout(() => { timers.delete(finished); runBatch(batch) }, batchDelayMs)
      timers.add(finished)
    }, batchDelayMs)
    timers.add(started)
  }

  function runBatch (batch: FakeBatch): void {
    const ids = batchWork.get(batch.id)
    if (ids === undefined) return
    batchWork.delete(batch.id)
    const errors: string[] = []
    let processed = 0
    for (const id of ids) {
      const problem = unmarkable(id)
      if (problem !== null) {
        errors.push(capitalise(problem.reason))
        continue
      }
      commissions.get(id)!.fulfillment_status = 'fulfilled'
      processed++
    }
    Object.assign(batch, {
      status: processed > 0 ? 'completed' : 'failed',
      processed_count: processed,
      failed_count: errors.length,
      processing_errors: errors,
      progress: 100,
      updated_at: new Date().toISOString()
    })
  }

  function v2ShowBatch (id: number, send: Send): void {
    const batch = batches.get(id)
    if (batch === undefined) return send(404, { message: 'Batch process not found', code: 'not_found' })
    send(200, { ...batch })
  }

  /** `GET /batch_processes`: the unfinished ones unless `filters[status]` asks for others. */
  function v2ListBatches (r: RecordedRequest, send: Send): void {
    const wanted = r.params.getAll('filters[status]').concat(r.params.getAll('filters[status][]'))
    const statuses = new Set(wanted.length > 0 ? wanted : ['pending', 'in_progress'])
    send(200, [...batches.values()].filter(b => statuses.has(b.status)).map(b => ({ ...b })))
  }

  /**
   * `GET /commissions`: a bare array, oldest id first, `page` and `per_page` (default 20, at most
   * 100). `filters[fulfilled]` (yes|no) only ever matches non-monetary commissions.
   */
  function v2ListCommissions (r: RecordedRequest, send: Send): void {
    const p = r.params
    const status = p.get('filters[status]')
    const fulfilled = p.get('filters[fulfilled]')
    const unit = p.get('filters[unit]')
    const promoterId = p.get('filters[promoter_id]')
    const campaignId = p.get('filters[campaign_id]')
    const ids = new Set(p.getAll('ids[]').map(Number))
    const list = [...commissions.values()]
      .filter(c => ids.size === 0 || ids.has(c.id))
      .filter(c => status === null || c.status === status)
      .filter(c => unit === null || c.unit === unit)
      .filter(c => fulfilled === null ||
        (NON_MONETARY.has(c.unit) && (fulfilled === 'yes') === (c.fulfillment_status === 'fulfilled')))
      .filter(c => promoterId === null || String(c.promoter_campaign?.promoter_id) === promoterId)
      .filter(c => campaignId === null || String(c.promoter_campaign?.campaign_id) === campaignId)
      .sort((a, b) => a.id - b.id)
    const perPage = String(Math.min(MAX_PER_PAGE, Number(p.get('per_page') ?? 20) || 20))
    send(200, paginate(list, p.get('page') ?? undefined, perPage, 20))
  }

  function v2List (r: RecordedRequest, send: Send): void {
    const status = r.query['filters[status]']
    const perPage = Math.min(100, Number(r.query.per_page ?? 20))
    const list = [...payouts.values()]
      .filter(p => status === undefined || p.status === status)
      .sort((a, b) => a.id - b.id)
      .map(p => ({
        id: p.id,
        status: p.status,
        amount: p.amount,
        unit: p.unit,
        paid_at: p.date_paid ?? null,
        created_at: p.created_at,
        promoter: p.promoter == null ? null : { id: p.promoter.id, email: p.promoter.email, name: null },
        campaign: p.campaign ?? null
      }))
    send(200, paginate(list, r.query.page, String(perPage), 20))
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`

  return {
    origin,
    port,
    /** The v1 base URL, for createV1Client({ baseUrl }). */
    url: `${origin}${V1}`,
    /** The v2 base URL, for createV2Client({ baseUrl }). */
    v2Url: `${origin}${V2}`,
    apiKey,
    accountId,
    payouts,
    commissions,
    /** v2 batch processes by id (`mark_as_paid`, `mark_fulfilled`). */
    batches,
    requests,
    addPayout,
    addCommission,
    getPayout: (id: number) => payouts.get(id),
    failNext,
    closeCalls,
    /** Completes every unfinished v2 batch now, as if its processing had run. */
    settleBatches (): void {
      for (const batch of batches.values()) if (batchWork.has(batch.id)) runBatch(batch)
    },
    /** Starts a new v2 rate-limit window, as if a minute had passed. */
    resetRateLimit (): void {
      rateWindow = { startedAt: Date.now(), count: 0 }
    },
    /** Forget recorded requests and pending failures; payouts stay. */
    reset (): void {
      requests.length = 0
      failures.length = 0
    },
    async close (): Promise<void> {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      const closed = new Promise<void>(resolve => server.close(() => { resolve() }))
      server.closeAllConnections()
      await closed
    }
  }
}

export type FakeFirstPromoter = Awaited<ReturnType<typeof startFakeFirstPromoter>>

function isForm (headers: IncomingHttpHeaders): boolean {
  return headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true
}

function parseBody (contentType: string | undefined, raw: string): unknown {
  if (raw === '') return undefined
  if (contentType?.startsWith('application/x-www-form-urlencoded') === true) {
    return Object.fromEntries(new URLSearchParams(raw))
  }
  if (contentType?.startsWith('application/json') === true) {
    try {
      return JSON.parse(raw)
    } catch {
      return raw
    }
  }
  return raw
}

function capitalise (text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function paginate<T> (list: T[], page: string | undefined, perPage: string | undefined, fallback: number): T[] {
  const p = Math.max(1, Math.floor(Number(page ?? 1)) || 1)
  const size = Math.max(1, Math.floor(Number(perPage ?? fallback)) || fallback)
  return list.slice((p - 1) * size, p * size)
}

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Payout, PayoutPromoter } from './types.js'

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
  headers: IncomingHttpHeaders
  query: Record<string, string>
  /** Form fields as an object, parsed JSON, the raw text otherwise, or undefined when empty. */
  body: unknown
  rawBody: string
  /** The status the fake answered; undefined until answered or when the connection was dropped. */
  status?: number
  /** The failure injected into this request, if any. */
  injected?: FakeFailure
}

export interface FakeCommission {
  id: number
  status: string
  fulfillment_status: 'pending' | 'fulfilled'
  unit: string
  amount: number
  [key: string]: unknown
}

const V1 = '/api/v1'
const V2 = '/api/v2/company'
const UPDATE_STATUSES = new Set(['pending', 'processing', 'completed'])

/**
 * Starts the fake on 127.0.0.1, on a free port.
 * @returns the fake: `url` (v1 base), `v2Url`, state, `requests`, `failNext`, `close`
 */
export async function startFakeFirstPromoter (options: FakeFirstPromoterOptions = {}) {
  const apiKey = options.apiKey ?? 'fp-test-key'
  const accountId = options.accountId ?? 'acc_test'
  const defaultPerPage = options.defaultPerPage ?? 20
  const payouts = new Map<number, Payout>()
  const commissions = new Map<number, FakeCommission>()
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

  function addCommission (input: Partial<FakeCommission> = {}): FakeCommission {
    const id = input.id ?? nextId++
    const commission: FakeCommission = { status: 'approved', fulfillment_status: 'pending', unit: 'free_months', amount: 1, ...input, id }
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
      headers: req.headers,
      query: Object.fromEntries(url.searchParams),
      body: parseBody(req.headers['content-type'], raw),
      rawBody: raw
    }
    requests.push(record)
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status
      if (res.destroyed || res.writableEnded) return
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
      if (r.headers.authorization !== `Bearer ${apiKey}`) return send(401, { error: 'Unauthorized' })
      if (r.headers['account-id'] !== accountId) return send(403, { error: 'Account not found or access denied' })
      if (r.method === 'POST' && r.path === `${V2}/payouts/mark_as_paid`) return v2Bulk(r, send, 'payouts')
      if (r.method === 'POST' && r.path === `${V2}/commissions/mark_fulfilled`) return v2Bulk(r, send, 'commissions')
      if (r.method === 'GET' && r.path === `${V2}/payouts`) return v2List(r, send)
    }
    send(404, { error: 'Not found' })
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

  function v2Bulk (r: RecordedRequest, send: Send, kind: 'payouts' | 'commissions'): void {
    const ids = (r.body as { ids?: unknown } | undefined)?.ids
    if (r.headers['content-type']?.startsWith('application/json') !== true || !Array.isArray(ids) || ids.length === 0) {
      return send(422, { error: 'ids must be a non-empty array' })
    }
    const store: Map<number, { id: number, [k: string]: unknown }> = kind === 'payouts' ? payouts : commissions
    const unknown = ids.filter(id => !store.has(Number(id)))
    if (unknown.length > 0) {
      return send(404, { error: `${kind === 'payouts' ? 'Payout' : 'Commission'} not found`, ids: unknown })
    }
    const now = new Date().toISOString()
    for (const id of ids) {
      const item = store.get(Number(id))
      if (item === undefined) continue
      if (kind === 'payouts') {
        item.status = 'completed'
        item.date_paid ??= now
      } else {
        item.fulfillment_status = 'fulfilled'
      }
    }
    const async = ids.length > 5
    send(async ? 202 : 200, {
      id: nextBatchId++,
      status: async ? 'in_progress' : 'completed',
      total: ids.length,
      selected_total: ids.length,
      processed_count: async ? 0 : ids.length,
      failed_count: 0,
      action_label: kind === 'payouts' ? 'mark_as_paid' : 'mark_fulfilled',
      progress: async ? 0 : 100,
      processing_errors: [],
      created_at: now,
      updated_at: now
    })
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
    requests,
    addPayout,
    addCommission,
    getPayout: (id: number) => payouts.get(id),
    failNext,
    closeCalls,
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

function paginate<T> (list: T[], page: string | undefined, perPage: string | undefined, fallback: number): T[] {
  const p = Math.max(1, Math.floor(Number(page ?? 1)) || 1)
  const size = Math.max(1, Math.floor(Number(perPage ?? fallback)) || fallback)
  return list.slice((p - 1) * size, p * size)
}

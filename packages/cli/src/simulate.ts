import { randomInt } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'
import { randomUUID } from 'node:crypto'
import { examplePayload, type V1Payload } from './payloads/index.js'
import { exampleV2Payload, isV2Type, v2RetryDelay, V2_DEFAULT_MAX_RETRIES, V2_FIRST_RETRY_MS, type V2Payload } from './payloads/v2.js'
import { setPath, type SetOperation } from './set-path.js'

/** FirstPromoter's periodic fulfilment check, after an answer that is 2xx but not 200. */
export const DEFAULT_RECHECK_INTERVAL_MS = 3_600_000
/** Error retries are spread over a day: 7 of them, about 3.4 h apart. */
export const DEFAULT_RETRY_INTERVAL_MS = Math.round(86_400_000 / 7)
export const DEFAULT_MAX_RECHECKS = 24
/** docs/firstpromoter-v1.md, section 1: an error is "retried up to 7 times", then the fulfilment gets `has_issues`. */
export const DEFAULT_MAX_RETRIES = 7
/** FirstPromoter waits about 15 s for an answer. */
export const DEFAULT_TIMEOUT_MS = 15_000
export const DEFAULT_CONCURRENCY = 8
/** How much of each answer's body a report keeps (FirstPromoter's delivery log keeps a part too). */
export const BODY_EXCERPT_CHARS = 300

export type Outcome =
  /** fulfilment answered exactly 200: FirstPromoter marks it done */
  | 'completed'
  /** fulfilment still answered 2xx-but-not-200 after the last re-check */
  | 'pending'
  /** fulfilment failed on the first send and on every retry: FirstPromoter flags it for a human */
  | 'has_issues'
  /** ordinary event answered 2xx */
  | 'delivered'
  /** ordinary event answered otherwise, or not at all (it is not sent again) */
  | 'failed'

export interface Attempt {
  /** 1-based, in the order sent. */
  n: number
  /** Why it was sent: the first delivery, a periodic re-check after a non-200 2xx, or a retry after an error. */
  reason: 'first' | 'recheck' | 'retry'
  sentAt: string
  /** The HTTP status, or null when no answer came. */
  status: number | null
  /** Why no answer came: `timeout after N ms`, or the connection error. */
  error: string | null
  elapsedMs: number
  /** The start of the answer's body. */
  body: string | null
}

export interface Report {
  /** 1-based number of the delivery within this run. */
  delivery: number
  eventType: string
  eventId: number | string
  /** `data.id` of a fulfilment_pending or of a v2 commission event; null for other events. */
  fulfilmentId: number | string | null
  attempts: Attempt[]
  outcome: Outcome
}

/** What happens after an attempt: sent again after `inMs`, or done. */
export interface NextStep {
  action: 'recheck' | 'retry' | 'stop'
  inMs: number
}

export interface SimulateOptions {
  /** The webhook URL, secret included. */
  url: string
  /**
   * A v1 event type, or a v2 one (`commission.updated`…: sent as a v2 subscription sends it, with
   * v2's retries). Default `fulfilment_pending`.
   */
  type?: string
  /** Extra request headers: a v2 subscription's custom headers (`Authorization: Bearer …`). */
  headers?: Record<string, string>
  /** A v2 subscription's Basic credentials, `user:password`. */
  basicAuth?: string
  /** Applied to each payload after the fresh ids, in order (`['data.unit', 'credits']`). */
  set?: readonly SetOperation[]
  /** Deliveries, each with a fresh `event.id` (and fulfilment `data.id`). Default 1. */
  count?: number
  recheckIntervalMs?: number
  /** v1: the wait after an error (default a day / 7). v2: the first retry's wait, doubled each time (default 2 min). */
  retryIntervalMs?: number
  /** Re-sends after non-200 2xx answers before giving up with `pending`. Default 24. */
  maxRechecks?: number
  /** Re-sends after errors before `has_issues` (v1, default 7) or `failed` (v2, default 10). */
  maxRetries?: number
  timeoutMs?: number
  /** Deliveries in flight at once. Default 8. */
  concurrency?: number
  /** Replaces the wait between attempts (tests, or a UI that shows a countdown). */
  sleep?: (ms: number) => Promise<void>
  fetch?: typeof fetch
  onAttempt?: (report: Report, attempt: Attempt, next: NextStep) => void
  onReport?: (report: Report) => void
}

interface Resolved {
  url: string
  type: string
  v2: boolean
  headers: Record<string, string>
  set: readonly SetOperation[]
  count: number
  recheckIntervalMs: number
  retryIntervalMs: number
  maxRechecks: number
  maxRetries: number
  timeoutMs: number
  concurrency: number
  sleep: (ms: number) => Promise<void>
  fetch: typeof fetch
}

function integer (name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < min) throw new TypeError(`${name} must be an integer >= ${min}, got ${String(value)}`)
  return v
}

function resolve (options: SimulateOptions): Resolved {
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw new TypeError(`url must be an absolute http(s) URL, got "${options.url}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`url must be http or https, got ${url.protocol}`)
  const type = options.type ?? 'fulfilment_pending'
  const v2 = isV2Type(type)
  if (v2) exampleV2Payload(type)
  else examplePayload(type) // throws for a type FirstPromoter does not send
  const headers: Record<string, string> = { ...options.headers }
  if (options.basicAuth !== undefined) {
    if (!options.basicAuth.includes(':')) throw new TypeError('basicAuth must be user:password')
    headers.authorization = `Basic ${Buffer.from(options.basicAuth, 'utf8').toString('base64')}`
  }
  return {
    url: url.toString(),
    type,
    v2,
    headers,
    set: options.set ?? [],
    count: integer('count', options.count, 1, 1),
    recheckIntervalMs: integer('recheckIntervalMs', options.recheckIntervalMs, DEFAULT_RECHECK_INTERVAL_MS, 0),
    retryIntervalMs: integer('retryIntervalMs', options.retryIntervalMs, v2 ? V2_FIRST_RETRY_MS : DEFAULT_RETRY_INTERVAL_MS, 0),
    maxRechecks: integer('maxRechecks', options.maxRechecks, DEFAULT_MAX_RECHECKS, 0),
    maxRetries: integer('maxRetries', options.maxRetries, v2 ? V2_DEFAULT_MAX_RETRIES : DEFAULT_MAX_RETRIES, 0),
    timeoutMs: integer('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1),
    concurrency: integer('concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1),
    sleep: options.sleep ?? (async (ms) => { await delay(ms) }),
    fetch: options.fetch ?? globalThis.fetch
  }
}

// Random start, then consecutive: unique within a run, and across runs against the same
// database (the receiver dedupes on event.id, and a fulfilment id is granted once).
let nextId = 1_000_000_000 + randomInt(2 ** 47)
/** A fresh FirstPromoter-style integer id. */
export const freshId = (): number => nextId++

/**
 * One delivery's body: the documented example with a fresh `event.id` and `created_at` (and, for
 * fulfilment_pending, a fresh `data.id`), then the `set` operations.
 * @throws TypeError for an unknown type or a `set` path that cannot be applied
 */
export function buildPayload (type: string, set: readonly SetOperation[] = []): V1Payload {
  const payload = examplePayload(type)
  const now = new Date().toISOString()
  payload.event.id = freshId()
  payload.event.created_at = now
  if (type === 'fulfilment_pending') {
    payload.data.id = freshId()
    payload.data.created_at = now
  }
  for (const [path, value] of set) setPath(payload as unknown as Record<string, unknown>, path, value)
  return payload
}

/**
 * One v2 delivery's body: the documented example with a fresh `event_id` and `timestamp` (and a
 * fresh entity id, in `data.id` and `entity_id`), then the `set` operations.
 * @throws TypeError for an unknown type or a `set` path that cannot be applied
 */
export function buildV2Payload (type: string, set: readonly SetOperation[] = []): V2Payload {
  const payload = exampleV2Payload(type)
  payload.event_id = randomUUID()
  payload.timestamp = new Date().toISOString()
  const id = freshId()
  payload.data.id = id
  payload.entity_id = id
  for (const [path, value] of set) setPath(payload as unknown as Record<string, unknown>, path, value)
  return payload
}

function describeError (err: unknown, timeoutMs: number): string {
  const e = err as { name?: string, message?: string, cause?: { code?: string, message?: string } }
  if (e.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`
  const cause = e.cause
  if (cause?.message) return `connection error: ${cause.message}`
  return `connection error: ${e.message ?? String(err)}`
}

async function send (o: Resolved, body: string, n: number, reason: Attempt['reason'], extraHeaders: Record<string, string>): Promise<Attempt> {
  const sentAt = new Date().toISOString()
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  try {
    const res = await o.fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'firstpromoter-webhooks-simulator', ...extraHeaders },
      body,
      redirect: 'manual',
      // The whole exchange, body included, must fit in FirstPromoter's wait.
      signal: AbortSignal.timeout(o.timeoutMs)
    })
    const text = await res.text()
    return {
      n,
      reason,
      sentAt,
      status: res.status,
      error: null,
      elapsedMs: elapsed(),
      body: text.slice(0, BODY_EXCERPT_CHARS)
    }
  } catch (err) {
    return { n, reason, sentAt, status: null, error: describeError(err, o.timeoutMs), elapsedMs: elapsed(), body: null }
  }
}

/**
 * FirstPromoter's reading of an answer (docs/firstpromoter-v1.md, section 1). Ordinary events are
 * sent once. A fulfilment is done on exactly 200; another 2xx leaves it pending until the next
 * periodic check (no retry is counted); anything else, no answer included, is an error retried up
 * to `maxRetries` times.
 */
function nextStep (
  o: Resolved,
  report: Report,
  isFulfilment: boolean,
  counts: { pending: number, errors: number }
): NextStep {
  const status = report.attempts.at(-1)!.status
  const ok = status !== null && status >= 200 && status < 300
  const stop: NextStep = { action: 'stop', inMs: 0 }
  if (o.v2) {
    // v2: any 2xx is done; anything else is retried on v2's doubling schedule, then given up.
    report.outcome = ok ? 'delivered' : 'failed'
    if (ok) return stop
    counts.errors++
    return counts.errors > o.maxRetries ? stop : { action: 'retry', inMs: v2RetryDelay(counts.errors, o.retryIntervalMs) }
  }
  if (!isFulfilment) {
    report.outcome = ok ? 'delivered' : 'failed'
    return stop
  }
  if (status === 200) {
    report.outcome = 'completed'
    return stop
  }
  if (ok) {
    counts.pending++
    report.outcome = 'pending'
    return counts.pending > o.maxRechecks ? stop : { action: 'recheck', inMs: o.recheckIntervalMs }
  }
  counts.errors++
  report.outcome = 'has_issues'
  return counts.errors > o.maxRetries ? stop : { action: 'retry', inMs: o.retryIntervalMs }
}

async function deliver (o: Resolved, index: number, options: SimulateOptions): Promise<Report> {
  let body: string
  let report: Report
  let headers = o.headers
  if (o.v2) {
    const payload = buildV2Payload(o.type, o.set)
    body = JSON.stringify(payload)
    // FirstPromoter's own headers, beside the subscription's.
    headers = { 'x-event-id': payload.event_id, 'x-event-type': payload.event_type, ...o.headers }
    const isCommission = payload.event_type.startsWith('commission.')
    report = { delivery: index + 1, eventType: payload.event_type, eventId: payload.event_id, fulfilmentId: isCommission ? (payload.data.id as number | string) : null, attempts: [], outcome: 'failed' }
  } else {
    const payload = buildPayload(o.type, o.set)
    body = JSON.stringify(payload)
    const isFulfilment = payload.event.type === 'fulfilment_pending'
    report = { delivery: index + 1, eventType: payload.event.type, eventId: payload.event.id, fulfilmentId: isFulfilment ? (payload.data.id as number | string) : null, attempts: [], outcome: 'failed' }
  }
  const isFulfilment = !o.v2 && report.eventType === 'fulfilment_pending'
  const counts = { pending: 0, errors: 0 }
  let reason: Attempt['reason'] = 'first'
  for (;;) {
    // The same body every time: FirstPromoter re-sends the event, it does not make a new one.
    const attempt = await send(o, body, report.attempts.length + 1, reason, headers)
    report.attempts.push(attempt)
    const next = nextStep(o, report, isFulfilment, counts)
    options.onAttempt?.(report, attempt, next)
    if (next.action === 'stop') return report
    await o.sleep(next.inMs)
    reason = next.action
  }
}

/**
 * Delivers webhooks the way FirstPromoter does, and reports what it would conclude.
 * Deliveries run concurrently (up to `concurrency`); each is followed to its end: re-checked while
 * answered 2xx-but-not-200, retried after errors, `has_issues` after the last failed retry.
 * @returns one report per delivery, in delivery order
 * @throws TypeError for invalid options (before anything is sent)
 */
export async function simulate (options: SimulateOptions): Promise<Report[]> {
  const o = resolve(options)
  // A bad --set fails before anything is sent.
  if (o.v2) buildV2Payload(o.type, o.set)
  else buildPayload(o.type, o.set)
  const reports: Report[] = new Array<Report>(o.count)
  let next = 0
  const lane = async () => {
    while (next < o.count) {
      const index = next++
      const report = await deliver(o, index, options)
      reports[index] = report
      options.onReport?.(report)
    }
  }
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, lane))
  return reports
}

/** True when FirstPromoter would be satisfied with every delivery. */
export const allSucceeded = (reports: readonly Report[]): boolean =>
  reports.every((r) => r.outcome === 'completed' || r.outcome === 'delivered')

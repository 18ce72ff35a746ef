import {
  errorFromFailure,
  errorFromResponse,
  FirstPromoterApiError,
  type FirstPromoterApiErrorCode
} from './errors.js'
import type { RateLimiter } from './rate-limiter.js'
import { backoffDelay, defaultSleep, parseRetryAfter } from './retry.js'

export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_MAX_RETRIES = 4

/** What a retry hook is told before the client sleeps and tries again. */
export interface RetryInfo {
  /** `METHOD /path` relative to the base URL. */
  endpoint: string
  /** The attempt that just failed (1 for the first). */
  attempt: number
  code: FirstPromoterApiErrorCode
  status: number | undefined
  /** How long the client will sleep before the next attempt. */
  delayMs: number
}

/** Options shared by the v1 and v2 clients. */
export interface ClientOptions {
  apiKey: string
  /** The API root, without a trailing slash; each client has its own default. */
  baseUrl?: string
  /** Per attempt, via `AbortSignal.timeout`. Default 10000. */
  timeoutMs?: number
  /** Extra attempts after the first, for 429, 5xx, timeouts and network errors. Default 4. */
  maxRetries?: number
  /** Awaited before every attempt, retries included. Default: none. */
  limiter?: RateLimiter
  /** Default: the global fetch. */
  fetch?: typeof fetch
  /** Default: a setTimeout promise. Tests inject one to skip or record the waits. */
  sleep?: (ms: number) => Promise<void>
  /** Called before each retry (for logging); must not throw. */
  onRetry?: (info: RetryInfo) => void
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT'
  /** Path below the base URL, starting with `/`. */
  path: string
  query?: URLSearchParams
  form?: URLSearchParams
  json?: unknown
}

export interface HttpResponse {
  status: number
  body: unknown
  /** How many attempts it took. */
  attempts: number
}

interface TransportConfig {
  defaultBaseUrl: string
  authHeaders: Record<string, string>
  /** Replaces an error's summary per code, e.g. which credentials a 401 is about. */
  summaries?: Partial<Record<FirstPromoterApiErrorCode, string>>
}

/**
 * Validates the options and builds the function every endpoint goes through: rate limit,
 * timeout, retries with backoff, and error mapping.
 * @throws TypeError when an option is invalid
 */
export function createTransport (options: ClientOptions, config: TransportConfig) {
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new TypeError('FirstPromoter client: apiKey must be a non-empty string')
  }
  const baseUrl = normalizeBaseUrl(options.baseUrl ?? config.defaultBaseUrl)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('FirstPromoter client: timeoutMs must be a positive number')
  }
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new TypeError('FirstPromoter client: maxRetries must be a non-negative integer')
  }
  const fetchImpl = options.fetch ?? globalThis.fetch
  const sleep = options.sleep ?? defaultSleep
  const random = options.random ?? Math.random
  const { limiter, onRetry } = options
  // Error messages are scrubbed of the key in case a server echoes what it was sent.
  const secrets = [options.apiKey]
  const baseHeaders = { accept: 'application/json', ...config.authHeaders }

  /**
   * Sends one logical request, retrying what can be retried.
   * @returns the 2xx status and the parsed body (JSON, else text, null when empty)
   * @throws FirstPromoterApiError for any other outcome, once retries are spent or pointless
   */
  async function request (req: HttpRequest): Promise<HttpResponse> {
    const endpoint = `${req.method} ${req.path}`
    const query = req.query !== undefined && req.query.size > 0 ? `?${req.query.toString()}` : ''
    const url = `${baseUrl}${req.path}${query}`
    const headers: Record<string, string> = { ...baseHeaders }
    let payload: string | undefined
    if (req.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      payload = req.form.toString()
    } else if (req.json !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(req.json)
    }

    for (let attempt = 1; ; attempt++) {
      if (limiter !== undefined) await limiter.acquire()
      let error: FirstPromoterApiError
      let retryAfterMs: number | undefined
      try {
        const res = await fetchImpl(url, {
          method: req.method,
          headers,
          body: payload,
          // Following a redirect elsewhere would hand X-API-KEY to another host.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs)
        })
        const body = parseBody(await res.text())
        if (res.status >= 200 && res.status < 300) return { status: res.status, body, attempts: attempt }
        error = errorFromResponse(res.status, body, endpoint, attempt, secrets, config.summaries)
        if (error.retryable) retryAfterMs = parseRetryAfter(res.headers.get('retry-after'))
      } catch (err) {
        const kind = isTimeout(err) ? 'timeout' : 'network'
        error = errorFromFailure(kind, err, endpoint, attempt, timeoutMs, secrets)
      }
      if (!error.retryable || attempt > maxRetries) throw error
      const delayMs = retryAfterMs ?? backoffDelay(attempt - 1, random)
      onRetry?.({ endpoint, attempt, code: error.code, status: error.status, delayMs })
      await sleep(delayMs)
    }
  }

  return { request, baseUrl, timeoutMs, maxRetries }
}

export type Transport = ReturnType<typeof createTransport>

function normalizeBaseUrl (value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`FirstPromoter client: baseUrl is not a valid URL: ${value}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('FirstPromoter client: baseUrl must be http(s)')
  }
  return url.toString().replace(/\/+$/, '')
}

function parseBody (text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function isTimeout (err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
}

/** Raised when a 2xx answer does not have the shape the endpoint promises. */
export function unexpectedBody (endpoint: string, expected: string, res: HttpResponse): FirstPromoterApiError {
  return new FirstPromoterApiError(
    `FirstPromoter API answered ${res.status} on ${endpoint} with an unexpected body (expected ${expected})`,
    { code: 'server_error', status: res.status, retryable: true, body: res.body, endpoint, attempts: res.attempts }
  )
}

/**
 * Checks an id for a query or body: a positive integer, or a string of digits.
 * @throws TypeError otherwise
 */
export function assertId (id: unknown, what = 'id'): number {
  const n = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new TypeError(`FirstPromoter client: ${what} must be a positive integer, got ${String(id)}`)
  }
  return n
}

/** @throws TypeError unless `value` is an integer >= 1 */
export function positiveInt (value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`FirstPromoter client: ${what} must be a positive integer, got ${String(value)}`)
  }
  return value
}

/** A JSON object carrying an `id`: the least a payout or batch must be. */
export function isRecordWithId (value: unknown): value is { id: unknown, [key: string]: unknown } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'id' in value
}

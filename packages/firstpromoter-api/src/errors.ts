/** What went wrong, independent of the HTTP status (a timeout has none). */
export type FirstPromoterApiErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'unprocessable'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'network'

export interface FirstPromoterApiErrorInit {
  code: FirstPromoterApiErrorCode
  status?: number | undefined
  retryable: boolean
  body?: unknown
  /** `PUT /payouts/update`: the method and the path relative to the base URL. */
  endpoint: string
  attempts: number
  cause?: unknown
}

/**
 * The one error this package throws for a failed call. `retryable` tells a job runner whether
 * trying again later can help (429, 5xx, timeouts, network) or not (400, 401, 403, 404, 422).
 */
export class FirstPromoterApiError extends Error {
  override readonly name = 'FirstPromoterApiError'
  readonly code: FirstPromoterApiErrorCode
  /** The HTTP status, or undefined when no answer came (timeout, network). */
  readonly status: number | undefined
  readonly retryable: boolean
  /** The parsed error body: JSON when it parses (`{"error":"…"}`), else the raw text (v1's 401). */
  readonly body: unknown
  /** `METHOD /path`, relative to the client's base URL. */
  readonly endpoint: string
  /** How many HTTP attempts were made before giving up. */
  readonly attempts: number

  constructor (message: string, init: FirstPromoterApiErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause })
    this.code = init.code
    this.status = init.status
    this.retryable = init.retryable
    this.body = init.body
    this.endpoint = init.endpoint
    this.attempts = init.attempts
  }
}

/** Statuses worth another attempt: the request may succeed unchanged a moment later. */
export function isRetryableStatus (status: number): boolean {
  return status === 429 || status >= 500
}

export function codeForStatus (status: number): FirstPromoterApiErrorCode {
  if (status === 401) return 'unauthorized'
  if (status === 403) return 'forbidden'
  if (status === 404) return 'not_found'
  if (status === 422) return 'unprocessable'
  if (status === 429) return 'rate_limited'
  if (status >= 500) return 'server_error'
  return 'bad_request'
}

/** The server's own explanation, if the body carries a short one. */
function detailOf (body: unknown): string | undefined {
  let detail: unknown
  if (typeof body === 'string') detail = body
  else if (body !== null && typeof body === 'object') {
    const b = body as Record<string, unknown>
    detail = b.error ?? b.message ?? b.errors
    if (detail !== undefined && typeof detail !== 'string') detail = JSON.stringify(detail)
  }
  if (typeof detail !== 'string') return undefined
  const text = detail.trim().replace(/\s+/g, ' ')
  if (text === '') return undefined
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

const SUMMARY: Record<FirstPromoterApiErrorCode, string> = {
  bad_request: 'rejected the request',
  unauthorized: 'rejected the API key',
  forbidden: 'refused access (check the key\'s permissions and the account id)',
  not_found: 'found no such resource',
  unprocessable: 'could not process the request',
  rate_limited: 'kept rate-limiting the request',
  server_error: 'failed with a server error',
  timeout: 'did not answer in time',
  network: 'could not be reached'
}

/**
 * Builds the error for an HTTP answer that is not a success.
 * `secrets` are scrubbed from the message: a server may echo what it was sent.
 */
export function errorFromResponse (
  status: number,
  body: unknown,
  endpoint: string,
  attempts: number,
  secrets: readonly string[],
  summaries: Partial<Record<FirstPromoterApiErrorCode, string>> = {}
): FirstPromoterApiError {
  const code = codeForStatus(status)
  const retryable = isRetryableStatus(status)
  const detail = detailOf(body)
  let message = `FirstPromoter API ${summaries[code] ?? SUMMARY[code]} (${status}) on ${endpoint}`
  if (retryable) message += ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`
  if (detail !== undefined && code !== 'unauthorized') message += `: ${detail}`
  return new FirstPromoterApiError(redact(message, secrets), { code, status, retryable, body, endpoint, attempts })
}

/** Builds the error for a request that got no answer: a timeout or a network failure. */
export function errorFromFailure (
  kind: 'timeout' | 'network',
  cause: unknown,
  endpoint: string,
  attempts: number,
  timeoutMs: number,
  secrets: readonly string[]
): FirstPromoterApiError {
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
  let message: string
  if (kind === 'timeout') {
    message = `FirstPromoter API ${SUMMARY.timeout} (no answer within ${timeoutMs} ms) on ${endpoint} after ${tries}`
  } else {
    const reason = describeCause(cause)
    message = `FirstPromoter API ${SUMMARY.network} on ${endpoint} after ${tries}${reason === '' ? '' : `: ${reason}`}`
  }
  return new FirstPromoterApiError(redact(message, secrets), { code: kind, retryable: true, endpoint, attempts, cause })
}

function describeCause (cause: unknown): string {
  if (!(cause instanceof Error)) return ''
  // undici reports "fetch failed" and keeps the useful part (ECONNREFUSED…) on its own cause.
  const inner = cause.cause
  if (inner instanceof Error) {
    const code = (inner as NodeJS.ErrnoException).code
    return code !== undefined ? `${code} (${inner.message})` : inner.message
  }
  return cause.message
}

export function redact (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]')
  }
  return out
}

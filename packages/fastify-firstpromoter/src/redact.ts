export const REDACTED = '[REDACTED]'

/** Keys whose values are credentials wherever they appear (docs/firstpromoter-v1.md, section 3). */
const SECRET_KEYS = new Set(['auth_token', 'temp_password'])
/** Personal data dropped when `personalData: 'drop'`; ids are kept so grants and projections still work. */
const PERSONAL_KEYS = new Set([
  'email', 'profile', 'w8_form_url', 'w9_form_url', 'note', 'promo_code', 'customer_promo_code',
  'paypal_email', 'phone_number', 'address', 'vat_id', 'first_name', 'last_name', 'username', 'website'
])
export const MAX_DEPTH = 64

export class NestingTooDeepError extends Error {
  constructor () {
    super(`JSON nested deeper than ${MAX_DEPTH} levels`)
    this.name = 'NestingTooDeepError'
  }
}

export interface RedactOptions {
  /** Values of our own URL secrets: masked wherever they occur in a string. */
  secrets: readonly string[]
  /** Extra dot paths to mask, `*` matching any key or array index (e.g. `data.promoter.profile.phone_number`). */
  paths: readonly string[][]
  personalData: 'keep' | 'drop'
}

/** Keeps scheme and host of our own webhook URL, drops the path and query where the secret lives. */
export function maskUrl (value: string): string {
  try {
    const u = new URL(value)
    return `${u.protocol}//${u.host}/${REDACTED}`
  } catch {
    return REDACTED
  }
}

const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g

/** `text` with every e-mail address replaced by `[email]`: for error texts and log lines. */
export function maskEmails (text: string): string {
  return text.replace(EMAIL, '[email]')
}

/**
 * An error's text fit for a log line. A query wrapper's error (Drizzle's "Failed query: …" has the
 * parameters on its next lines) gives way to its coded cause, as `message (code)`; otherwise the
 * first line of the message is kept. E-mail addresses are masked.
 */
export function loggableError (err: unknown): string {
  const cause = (err instanceof Error ? err.cause : undefined) as (Error & { code?: unknown }) | undefined
  const text = cause instanceof Error && typeof cause.code === 'string'
    ? `${cause.message} (${cause.code})`
    : err instanceof Error ? err.message : String(err)
  return maskEmails(text.split('\n', 1)[0]!).slice(0, 500)
}

/** `value` with every occurrence of each of `secrets` replaced by `[REDACTED]`. */
export function maskSecrets (value: string, secrets: readonly string[]): string {
  let out = value
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED)
  return out
}

/**
 * The request URL with the secret segment masked, and any of `secrets` wherever else it appears
 * (a mistyped path, a query string): the only form of it that may reach a log.
 * @param prefix the route's full prefix, e.g. `/webhooks/firstpromoter`
 */
export function maskedUrl (url: string, prefix: string, secrets: readonly string[] = []): string {
  if (!url.startsWith(prefix + '/')) return maskSecrets(url, secrets)
  const rest = url.slice(prefix.length + 1)
  const cut = rest.search(/[/?#]/)
  return maskSecrets(`${prefix}/${REDACTED}${cut === -1 ? '' : rest.slice(cut)}`, secrets)
}

/** `text` (a framework error's message, which may quote the URL) with the URL and the secrets masked. */
export function maskUrlIn (text: string, url: string, prefix: string, secrets: readonly string[]): string {
  return maskSecrets(text.split(url).join(maskedUrl(url, prefix, secrets)), secrets)
}

function maskPath (node: unknown, path: readonly string[], i: number): void {
  if (node === null || typeof node !== 'object') return
  const key = path[i]!
  const record = node as Record<string, unknown>
  const keys = key === '*' ? Object.keys(record) : (Object.hasOwn(record, key) ? [key] : [])
  for (const k of keys) {
    if (i === path.length - 1) {
      if (record[k] !== null && record[k] !== undefined) record[k] = REDACTED
    } else {
      maskPath(record[k], path, i + 1)
    }
  }
}

/**
 * Masks credentials, our URL secret, the configured extra paths and (optionally) personal data,
 * in place. Runs before anything is stored or logged.
 * @throws NestingTooDeepError when the document nests deeper than MAX_DEPTH
 */
export function redactInPlace (doc: unknown, options: RedactOptions): void {
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return maskSecrets(node, options.secrets)
    if (node === null || typeof node !== 'object') return node
    if (depth > MAX_DEPTH) throw new NestingTooDeepError()
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = walk(node[i], depth + 1)
      return node
    }
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const value = record[key]
      if (SECRET_KEYS.has(key)) {
        if (value !== null && value !== undefined) record[key] = REDACTED
      } else if (key === 'default_webhook_url') {
        if (typeof value === 'string' && value !== '') record[key] = maskUrl(value)
      } else if (options.personalData === 'drop' && PERSONAL_KEYS.has(key)) {
        if (value !== null && value !== undefined && value !== '') record[key] = REDACTED
      } else {
        record[key] = walk(value, depth + 1)
      }
    }
    return record
  }
  walk(doc, 0)
  for (const path of options.paths) maskPath(doc, path, 0)
}

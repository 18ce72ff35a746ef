/*
 * The credentials a v2 subscription can send on top of our URL secret: a custom header, HTTP Basic
 * credentials, and the withdrawn `X-Webhook-Signature` (docs/firstpromoter-v2.md §1, §5). v1
 * deliveries can send none of them, so the route asks only bodies that do not read as v1.
 */
import { createHmac } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { FST_FIRSTPROMOTER_OPTIONS } from './errors.js'
import { createSecretMatcher } from './secret.js'

/** The shortest header value, Basic password or signing secret accepted (as for URL secrets). */
export const MIN_V2_CREDENTIAL_LENGTH = 16

/** The header FirstPromoter documented (then withdrew) for the body's HMAC-SHA256, in lowercase hex. */
export const V2_SIGNATURE_HEADER = 'x-webhook-signature'

/** Credentials a v2 delivery must carry; each takes several values during a rotation. */
export interface V2AuthOptions {
  /** Name of a header every v2 delivery must carry (the subscription's custom header), e.g. `authorization`. */
  v2AuthHeader?: string
  /** Accepted values of `v2AuthHeader`, e.g. `Bearer <token>`: a list or a comma-separated string. */
  v2AuthValues?: string | readonly string[]
  /** Accepted HTTP Basic credentials: `user:password` strings (a list or comma-separated) or `{ user, password }`. */
  v2BasicAuth?: string | ReadonlyArray<string | { user: string, password: string }>
  /**
   * When set, a v2 delivery must carry `X-Webhook-Signature`, the hex HMAC-SHA256 of its body
   * keyed with one of these.
   */
  v2SigningSecrets?: string | readonly string[]
}

export interface NormalizedV2Auth {
  header: { name: string, values: readonly string[] } | null
  /** `user:password` pairs. */
  basic: readonly string[] | null
  signingSecrets: readonly string[] | null
}

/** What a refused delivery failed, for the operator's log line (never the sender's answer). */
export type V2AuthCheck = 'header' | 'basic' | 'signature'

// Headers the route or HTTP itself gives another meaning: never a credential.
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'transfer-encoding', 'host', 'connection', 'x-event-id', 'x-event-type', V2_SIGNATURE_HEADER])
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Visible ASCII, inner spaces allowed: what a header value keeps once HTTP has trimmed it.
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/
// No control characters (which no header can carry), inner spaces allowed.
const hasNoControls = (text: string) => text !== '' && [...text].every((c) => c >= ' ' && c !== '\x7f')

const fail = (problem: string) => new FST_FIRSTPROMOTER_OPTIONS(problem)

/** A list option given as a list or as a comma-separated string: trimmed, empty entries dropped. */
function listOf (name: string, raw: unknown): string[] | null {
  if (raw === undefined || raw === null) return null
  const items = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : null
  if (items === null) throw fail(`${name} must be a list or a comma-separated string`)
  const out = items.map((v: unknown) => {
    if (typeof v !== 'string') throw fail(`${name} must hold strings`)
    return v.trim()
  }).filter((v) => v !== '')
  return out.length > 0 ? out : null
}

function basicPairs (raw: V2AuthOptions['v2BasicAuth']): string[] | null {
  if (raw === undefined || raw === null) return null
  const items = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : null
  if (items === null) throw fail('v2BasicAuth must be a list or a comma-separated string of user:password')
  const pairs: string[] = []
  for (const item of items) {
    let user: unknown
    let password: unknown
    if (typeof item === 'string') {
      const text = item.trim()
      if (text === '') continue
      const colon = text.indexOf(':')
      if (colon === -1) throw fail('v2BasicAuth entries must be user:password')
      user = text.slice(0, colon)
      password = text.slice(colon + 1)
    } else if (typeof item === 'object' && item !== null) {
      ({ user, password } = item as { user?: unknown, password?: unknown })
    }
    if (typeof user !== 'string' || typeof password !== 'string') throw fail('v2BasicAuth entries must be user:password or { user, password }')
    // RFC 7617: the user-id cannot contain a colon, so user:password splits one way only.
    if (user === '' || user.includes(':') || !hasNoControls(user)) throw fail('a v2BasicAuth user must be non-empty, without colons or control characters')
    if (password.length < MIN_V2_CREDENTIAL_LENGTH || !hasNoControls(password)) throw fail(`a v2BasicAuth password must be at least ${MIN_V2_CREDENTIAL_LENGTH} characters, without control characters`)
    pairs.push(`${user}:${password}`)
  }
  return pairs.length > 0 ? pairs : null
}

/**
 * Checks the v2 credential options on their own (an app can refuse a bad value while it reads its
 * configuration). Errors name the option and the rule, never a value.
 * @returns the normalized credentials; every part null when none is configured
 * @throws FST_FIRSTPROMOTER_OPTIONS naming the rule an option breaks
 */
export function normalizeV2Auth (options: V2AuthOptions): NormalizedV2Auth {
  const rawName = options.v2AuthHeader
  if (rawName !== undefined && rawName !== null && typeof rawName !== 'string') throw fail('v2AuthHeader must be a header name')
  const name = typeof rawName === 'string' && rawName.trim() !== '' ? rawName.trim().toLowerCase() : null
  const values = listOf('v2AuthValues', options.v2AuthValues)
  if (name !== null) {
    if (!TOKEN.test(name)) throw fail('v2AuthHeader must be a valid header name')
    if (RESERVED_HEADERS.has(name)) throw fail(`v2AuthHeader cannot be ${name}: the route or HTTP reads it for something else`)
    if (values === null) throw fail('v2AuthValues must list the accepted value(s) of v2AuthHeader')
  } else if (values !== null) {
    throw fail('v2AuthValues is set without v2AuthHeader')
  }
  for (const v of values ?? []) {
    if (v.length < MIN_V2_CREDENTIAL_LENGTH || !HEADER_VALUE.test(v)) throw fail(`every v2AuthValues value must be at least ${MIN_V2_CREDENTIAL_LENGTH} visible ASCII characters (inner spaces allowed)`)
  }
  const basic = basicPairs(options.v2BasicAuth)
  if (basic !== null && name === 'authorization') throw fail('v2AuthHeader cannot be authorization when v2BasicAuth is set: Basic credentials travel in that header')
  const signingSecrets = listOf('v2SigningSecrets', options.v2SigningSecrets)
  for (const s of signingSecrets ?? []) {
    if (s.length < MIN_V2_CREDENTIAL_LENGTH) throw fail(`every v2SigningSecrets value must be at least ${MIN_V2_CREDENTIAL_LENGTH} characters`)
  }
  return { header: name !== null ? { name, values: values! } : null, basic, signingSecrets }
}

/**
 * Every form in which a configured v2 credential could show up in a payload or a log line: each
 * header value and its token without the scheme (`Bearer <token>`), each Basic password and its
 * header's base64, each signing secret. Masked like the URL secrets.
 */
export function v2CredentialValues (auth: NormalizedV2Auth): string[] {
  const out: string[] = []
  for (const value of auth.header?.values ?? []) {
    out.push(value)
    const token = value.slice(value.lastIndexOf(' ') + 1)
    if (token !== value && token.length >= MIN_V2_CREDENTIAL_LENGTH) out.push(token)
  }
  for (const pair of auth.basic ?? []) out.push(pair.slice(pair.indexOf(':') + 1), Buffer.from(pair, 'utf8').toString('base64'))
  out.push(...auth.signingSecrets ?? [])
  return out
}

/** Whether any v2 credential is configured. */
export const v2AuthConfigured = (auth: NormalizedV2Auth): boolean =>
  auth.header !== null || auth.basic !== null || auth.signingSecrets !== null

/** A header's value when it was sent once (Node joins most repeated headers with ", "). */
function single (value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** `user:password` from `Authorization: Basic <base64>`, or undefined for anything else. */
function basicCredentials (authorization: string | undefined): string | undefined {
  const m = authorization === undefined ? null : /^basic[ \t]+([A-Za-z0-9+/]+={0,2})$/i.exec(authorization)
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : undefined
}

const hmacHex = (secret: string, raw: string) => createHmac('sha256', secret).update(raw, 'utf8').digest('hex')

/**
 * Builds the check of a v2 delivery's credentials. Every configured check runs, whether or not an
 * earlier one failed, and each compares in constant time (`createSecretMatcher`), so neither the
 * answer nor its timing tells which one failed or how much of a value matched.
 * @returns null when no credential is configured; else a function of the request's headers and its
 * raw body (the signature is computed over its UTF-8 text) giving the checks that failed ([] = accepted)
 */
export function createV2Authenticator (auth: NormalizedV2Auth) {
  if (!v2AuthConfigured(auth)) return null
  const header = auth.header && { name: auth.header.name, matches: createSecretMatcher(auth.header.values) }
  const basic = auth.basic && createSecretMatcher(auth.basic)
  const signingSecrets = auth.signingSecrets
  return function failedChecks (headers: IncomingHttpHeaders, raw: string): V2AuthCheck[] {
    const failed: V2AuthCheck[] = []
    if (header && !header.matches(single(headers[header.name]))) failed.push('header')
    if (basic && !basic(basicCredentials(single(headers.authorization)))) failed.push('basic')
    if (signingSecrets) {
      const given = single(headers[V2_SIGNATURE_HEADER])?.trim().toLowerCase()
      // Each secret's signature is computed, so that the time does not depend on which one signed.
      if (!createSecretMatcher(signingSecrets.map((s) => hmacHex(s, raw)))(given)) failed.push('signature')
    }
    return failed
  }
}

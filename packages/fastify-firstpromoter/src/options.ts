import { FST_FIRSTPROMOTER_OPTIONS } from './errors.js'
import type { FirstPromoterDispatcher, FirstPromoterStore } from './seams.js'
import { normalizeV2Auth, v2AuthConfigured, type NormalizedV2Auth, type V2AuthOptions } from './v2-auth.js'

export const DEFAULT_PREFIX = '/webhooks/firstpromoter'
export const DEFAULT_BODY_LIMIT = 1024 * 1024
export const DEFAULT_FULFILMENT_WAIT_MS = 2000
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 1000
export const DEFAULT_QUARANTINE_BODY_LIMIT = 64 * 1024
export const DEFAULT_STORE_TIMEOUT_MS = 5000
export const DEFAULT_ACCEPT_V2 = true
export const MIN_SECRET_LENGTH = 16
/**
 * Fastify's default `maxParamLength`: the router answers 414 (repeating the path) for a longer
 * path segment before the secret is checked, so a longer secret could never match.
 */
export const MAX_SECRET_LENGTH = 100
/** FirstPromoter gives up after about 15 s; the wait must leave room for storage and the answer. */
export const MAX_FULFILMENT_WAIT_MS = 10_000

export interface FastifyFirstPromoterOptions extends V2AuthOptions {
  /** URL secret(s): the last path segment of the webhook URL. Several during a rotation. Required. */
  secrets: string | readonly string[]
  /** Durable storage of deliveries and fulfilments. Required. */
  store: FirstPromoterStore
  /** The job queue that processes events and grants fulfilments. Required. */
  dispatcher: FirstPromoterDispatcher
  /** Route prefix; the route is `POST {prefix}/:secret`. Default `/webhooks/firstpromoter`. */
  prefix?: string
  /** Largest body accepted, in bytes; larger answers 413. Default 1 MiB. */
  bodyLimit?: number
  /** How long a `fulfilment_pending` delivery waits for its grant before answering 202. Default 2000 ms. */
  fulfilmentWaitMs?: number
  /** How long to wait for the queue before treating it as unreachable. Default 1000 ms. */
  enqueueTimeoutMs?: number
  /**
   * How long to wait for the store before answering 503. Default 5000 ms. The store's `record` is
   * then told to abandon the write (its `signal` aborts), so that a 503 means "not stored".
   */
  storeTimeoutMs?: number
  /** Extra JSON paths to mask before storing and logging, dot-separated, `*` for any key. */
  redactPaths?: readonly string[]
  /** `'drop'` masks emails, profiles, tax forms, notes and promo codes before storing. Default `'keep'`. */
  personalData?: 'keep' | 'drop'
  /**
   * Accept FirstPromoter's v2 webhook envelope on the same route (recognised by `event_id` /
   * `event_type` without v1's `event`). Default true; when false a v2 body is refused with 400 and
   * quarantined. The `v2*` credential options need it.
   */
  acceptV2?: boolean
  /** Largest part of a rejected body kept in quarantine, in bytes. Default 64 KiB. */
  quarantineBodyLimit?: number
  /**
   * Says whether grants of a unit are paused. When it says yes, a new fulfilment is still stored
   * and its grant queued, but answered 202 at once instead of waiting `fulfilmentWaitMs` for a
   * grant that will not run. Only a shortcut: the answer still comes from the store. An error or a
   * reply later than `enqueueTimeoutMs` counts as "not paused".
   */
  grantsPaused?: (unit: string) => boolean | Promise<boolean>
}

export interface NormalizedOptions {
  secrets: readonly string[]
  store: FirstPromoterStore
  dispatcher: FirstPromoterDispatcher
  prefix: string
  bodyLimit: number
  fulfilmentWaitMs: number
  enqueueTimeoutMs: number
  storeTimeoutMs: number
  redactPaths: readonly string[][]
  personalData: 'keep' | 'drop'
  acceptV2: boolean
  /** What a v2 delivery must carry besides the URL secret; every part null when nothing is configured. */
  v2Auth: NormalizedV2Auth
  quarantineBodyLimit: number
  grantsPaused: ((unit: string) => boolean | Promise<boolean>) | null
}

function positiveInt (name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new FST_FIRSTPROMOTER_OPTIONS(`${name} must be an integer from 0 to ${max}, got ${String(value)}`)
  }
  return value
}

function hasMethods (value: unknown, methods: readonly string[]): boolean {
  return typeof value === 'object' && value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
}

/**
 * Checks the `secrets` option (a comma-separated string or a list) on its own, so that an app can
 * refuse a bad secret while it reads its configuration, before it opens any connection.
 * @returns the trimmed, non-empty secrets
 * @throws FST_FIRSTPROMOTER_OPTIONS naming the rule a secret breaks
 */
export function normalizeSecrets (raw: unknown): string[] {
  const secrets = (typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : [])
    .map((s: unknown) => (typeof s === 'string' ? s.trim() : ''))
    .filter((s: string) => s !== '')
  if (secrets.length === 0) throw new FST_FIRSTPROMOTER_OPTIONS('secrets must list at least one secret')
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) throw new FST_FIRSTPROMOTER_OPTIONS(`every secret must be at least ${MIN_SECRET_LENGTH} characters`)
    if (s.length > MAX_SECRET_LENGTH) throw new FST_FIRSTPROMOTER_OPTIONS(`every secret must be at most ${MAX_SECRET_LENGTH} characters`)
    if (!/^[A-Za-z0-9._~-]+$/.test(s)) throw new FST_FIRSTPROMOTER_OPTIONS('secrets may only use URL-safe characters: A-Z a-z 0-9 . _ ~ -')
  }
  return secrets
}

/**
 * Checks the options once, at registration, and fills in the defaults.
 * @throws FST_FIRSTPROMOTER_OPTIONS (a TypeError) naming the first bad option
 */
export function normalizeOptions (options: FastifyFirstPromoterOptions): NormalizedOptions {
  const secrets = normalizeSecrets(options?.secrets)
  // Handlers never ran in the process that registered them; they live in the definition module now.
  if ('handlers' in options) {
    throw new FST_FIRSTPROMOTER_OPTIONS('handlers is no longer an option: handlers run in the worker; declare them in your definition module (defineFirstPromoter from @fp-webhooks/worker)')
  }
  if (!hasMethods(options.store, ['record', 'quarantine', 'settleAnswer', 'noteAnswer'])) {
    throw new FST_FIRSTPROMOTER_OPTIONS('store must implement record, quarantine, settleAnswer and noteAnswer')
  }
  if (options.store.flush !== undefined && typeof options.store.flush !== 'function') {
    throw new FST_FIRSTPROMOTER_OPTIONS('store.flush must be a function when given')
  }
  if (!hasMethods(options.dispatcher, ['enqueueEvent', 'enqueueGrant', 'waitForGrant'])) {
    throw new FST_FIRSTPROMOTER_OPTIONS('dispatcher must implement enqueueEvent, enqueueGrant and waitForGrant')
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string' || (prefix !== '' && !prefix.startsWith('/')) || prefix.endsWith('/')) {
    throw new FST_FIRSTPROMOTER_OPTIONS('prefix must be empty or start with "/" and not end with "/"')
  }
  const personalData = options.personalData ?? 'keep'
  if (personalData !== 'keep' && personalData !== 'drop') throw new FST_FIRSTPROMOTER_OPTIONS('personalData must be "keep" or "drop"')
  const redactPaths = (options.redactPaths ?? []).map((p) => {
    if (typeof p !== 'string' || p.trim() === '') throw new FST_FIRSTPROMOTER_OPTIONS('redactPaths must be non-empty dot paths')
    return p.split('.')
  })
  if (options.acceptV2 !== undefined && typeof options.acceptV2 !== 'boolean') throw new FST_FIRSTPROMOTER_OPTIONS('acceptV2 must be a boolean')
  const acceptV2 = options.acceptV2 ?? DEFAULT_ACCEPT_V2
  const v2Auth = normalizeV2Auth(options)
  if (!acceptV2 && v2AuthConfigured(v2Auth)) {
    throw new FST_FIRSTPROMOTER_OPTIONS('v2 credentials (v2AuthHeader, v2BasicAuth, v2SigningSecrets) are set but acceptV2 is false')
  }
  if (options.grantsPaused !== undefined && typeof options.grantsPaused !== 'function') throw new FST_FIRSTPROMOTER_OPTIONS('grantsPaused must be a function')
  return {
    secrets,
    store: options.store,
    dispatcher: options.dispatcher,
    prefix,
    bodyLimit: positiveInt('bodyLimit', options.bodyLimit, DEFAULT_BODY_LIMIT),
    fulfilmentWaitMs: positiveInt('fulfilmentWaitMs', options.fulfilmentWaitMs, DEFAULT_FULFILMENT_WAIT_MS, MAX_FULFILMENT_WAIT_MS),
    enqueueTimeoutMs: positiveInt('enqueueTimeoutMs', options.enqueueTimeoutMs, DEFAULT_ENQUEUE_TIMEOUT_MS, MAX_FULFILMENT_WAIT_MS),
    storeTimeoutMs: positiveInt('storeTimeoutMs', options.storeTimeoutMs, DEFAULT_STORE_TIMEOUT_MS, MAX_FULFILMENT_WAIT_MS),
    redactPaths,
    personalData,
    acceptV2,
    v2Auth,
    quarantineBodyLimit: positiveInt('quarantineBodyLimit', options.quarantineBodyLimit, DEFAULT_QUARANTINE_BODY_LIMIT),
    grantsPaused: options.grantsPaused ?? null
  }
}

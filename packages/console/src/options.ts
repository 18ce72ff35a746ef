import type { Db } from '@fp-webhooks/db'
import type { JobQueues } from '@fp-webhooks/queue'
import type { FastifyRequest } from 'fastify'

/** What a Retry of a fulfilment's grant did; null when there is no such fulfilment. */
export type RetryOutcome = { retried: true } | { retried: false, state: string } | null

/** What a Retry of an API close did; null when there is no such fulfilment. */
export type RetryCloseOutcome = { retried: true } | { retried: false, apiClose: string } | null

/** What a resubmitted quarantined delivery was answered; null when there is no such entry. */
export type ResubmitOutcome =
  | { resubmitted: boolean, statusCode: number, answer: unknown }
  | { noBody: true }
  | null

/**
 * What the console's buttons do. The console changes nothing itself: the server it is mounted in
 * does it, through the same operations as its admin API.
 */
export interface ConsoleActions {
  /** A failed fulfilment back to pending and its grant queued, or a retrying grant run now. */
  retryFulfilment: (id: number) => Promise<RetryOutcome>
  /** A failed API close made due again and its close job queued. */
  retryClose: (id: number) => Promise<RetryCloseOutcome>
  /** A quarantined delivery sent through the webhook route again, as stored or as `body`. */
  resubmit: (id: number, body?: unknown) => Promise<ResubmitOutcome>
}

/** What is paused. `units` lists the units paused one by one when `all` is false. */
export interface PauseState {
  all: boolean
  units: string[]
  /** When the oldest pause in force began, and who set it, for the banner. */
  since?: Date | null
  by?: string | null
}

/**
 * The pause switch (issue 16, item 2), plugged in by the server that has it. Without it the
 * console shows no banner and no switch.
 */
export interface ConsolePauses {
  status: () => Promise<PauseState>
  /** Pauses every grant, or one unit's. `by` names who asked (the console's session). */
  pause: (options: { unit?: string, by: string }) => Promise<void>
  resume: (options: { unit?: string, by: string }) => Promise<void>
}

/**
 * `fastify.createRateLimit(…)` of @fastify/rate-limit: counts one request per call,
 * or peeks with `increment: false`.
 */
export type LoginLimiter = (
  req: FastifyRequest,
  options?: { increment?: boolean }
) => Promise<{ isAllowed: boolean, remaining?: number, ttlInSeconds?: number }>

export interface ConsoleOptions {
  /** The Drizzle db of `@fp-webhooks/db` (`createDb(url).db`): every page reads through it. */
  db: Db
  /** The admin token (`ADMIN_TOKEN`): the login form asks for it. At least 16 characters. */
  token: string
  actions: ConsoleActions
  /** The BullMQ queues (`createBullDispatcher(…).queues`): the backlog of grant jobs, a close job's attempts. */
  queues?: Pick<JobQueues, 'grants' | 'maintenance'>
  /** The pause switch; omitted, no banner and no switch are shown. */
  pauses?: ConsolePauses
  /**
   * Counts failed logins per client address; once spent, logins are refused (429) until its window
   * ends. Default: 10 failures per 15 minutes, in this process's memory. Pass the one your admin
   * API uses so that both share one budget.
   */
  loginLimiter?: LoginLimiter
  /** How long a login lasts. Default 8 hours. */
  sessionTtlMs?: number
  /**
   * Signs the session and CSRF cookies. Default: derived from `token` (HMAC-SHA256), so every
   * process of a deployment agrees and changing the token ends every session. At least 32 bytes.
   */
  sessionSecret?: string | Buffer
  /** Extra links in the header, e.g. the queue dashboard: `[{ label: 'Queues', href: '/admin/queues/' }]`. */
  links?: Array<{ label: string, href: string }>
}

export const DEFAULT_SESSION_TTL_MS = 8 * 3600_000
export const DEFAULT_LOGIN_FAILURES = 10
export const DEFAULT_LOGIN_WINDOW_MS = 15 * 60_000

export type NormalizedConsoleOptions = Required<Pick<ConsoleOptions, 'db' | 'token' | 'actions' | 'sessionTtlMs' | 'links'>> & Omit<ConsoleOptions, 'sessionSecret'> & { sessionSecret: Buffer }

/**
 * Checks the options once, at registration.
 * @throws TypeError naming the bad option
 */
export function normalizeConsoleOptions (
  options: ConsoleOptions,
  deriveSecret: (token: string) => Buffer
): NormalizedConsoleOptions {
  if (!options || typeof options !== 'object') throw new TypeError('@fp-webhooks/console: options are required')
  if (!options.db) throw new TypeError('@fp-webhooks/console: `db` is required (createDb(url).db of @fp-webhooks/db)')
  if (typeof options.token !== 'string' || options.token.length < 16) throw new TypeError('@fp-webhooks/console: `token` must be a string of at least 16 characters')
  const actions = options.actions
  if (!actions || typeof actions.retryFulfilment !== 'function' || typeof actions.retryClose !== 'function' || typeof actions.resubmit !== 'function') {
    throw new TypeError('@fp-webhooks/console: `actions` must implement retryFulfilment, retryClose and resubmit')
  }
  const ttl = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS
  if (!Number.isInteger(ttl) || ttl < 60_000) throw new TypeError('@fp-webhooks/console: `sessionTtlMs` must be an integer of at least 60000')
  const secret = options.sessionSecret === undefined ? deriveSecret(options.token) : Buffer.from(options.sessionSecret)
  if (secret.length < 32) throw new TypeError('@fp-webhooks/console: `sessionSecret` must be at least 32 bytes')
  return { ...options, actions, sessionTtlMs: ttl, sessionSecret: secret, links: options.links ?? [] }
}

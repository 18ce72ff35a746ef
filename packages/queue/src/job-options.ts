import type { JobsOptions } from 'bullmq'

/** The backoff type of grant jobs; the worker computes its delays (`grantRetryDelay`). */
export const GRANT_BACKOFF = 'fp-grant-capped'
/** First retry of a failed grant after 1 s, doubling each attempt… */
export const DEFAULT_GRANT_RETRY_DELAY_MS = 1000
/** …up to one hour between attempts, for as long as it keeps failing. */
export const DEFAULT_GRANT_RETRY_MAX_DELAY_MS = 3_600_000

export interface GrantRetryOptions {
  /** Delay before the first retry. Default 1 s. */
  delayMs?: number
  /** Longest delay between two attempts. Default 1 h. */
  maxDelayMs?: number
}

/**
 * The delay before retrying a grant that failed `attemptsMade` times: `delayMs · 2^(n−1)`, capped
 * at `maxDelayMs`. With the defaults: 1 s, 2 s, 4 s … 34 min (the 12th retry, about 68 min after the
 * first failure), then every hour.
 */
export function grantRetryDelay (attemptsMade: number, options: GrantRetryOptions = {}): number {
  const delay = options.delayMs ?? DEFAULT_GRANT_RETRY_DELAY_MS
  const max = options.maxDelayMs ?? DEFAULT_GRANT_RETRY_MAX_DELAY_MS
  const exponent = Math.min(Math.max(attemptsMade - 1, 0), 52)
  return Math.min(delay * 2 ** exponent, max)
}

/**
 * Grants are retried with capped backoff (`grantRetryDelay`) until they succeed: a transient failure
 * (the integrator's billing API is down) keeps the fulfilment pending, answered 202, and never turns
 * into a permanent 422. Only `PermanentGrantError` or a missing grant function end it `failed`.
 */
export const GRANT_JOB_OPTIONS: JobsOptions = {
  // Unlimited in practice (hourly for thousands of years), and exact through Redis' Lua JSON.
  attempts: 2 ** 31 - 1,
  backoff: { type: GRANT_BACKOFF },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 }
}

/** Event processing: 8 attempts, 1 s doubling (1 s … 64 s, about 2 min in all), then `failed`. */
export const EVENT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 }
}

/**
 * API closes wait out FirstPromoter's rate limits and outages: 12 attempts, 2 s doubling (2 s … 34 min,
 * about 68 min in all); then `api_close = failed`, and reconciliation closes it later.
 */
export const CLOSE_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 }
}

/** A reconciliation run asked for (admin, CLI): one attempt; the next scheduled run is the retry. */
export const RECONCILE_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 }
}

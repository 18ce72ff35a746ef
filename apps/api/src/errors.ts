import createError from '@fastify/error'

/*
 * One constructor per code the api itself sends (the plugin's FST_FIRSTPROMOTER_* are its own).
 * test/errors.test.ts pins the count and checks the README's Errors table against this file, both
 * ways. They are answers, rendered by `errorReply` and never thrown: no stack trace is captured.
 */

/** Any path the server does not serve. Fastify's own 404 would repeat the URL, and it may hold a secret. */
export const NOT_FOUND = createError<'NOT_FOUND', 404, []>('NOT_FOUND', 'Not Found', 404, Error, false)

export const METRICS_UNAUTHORIZED = createError<'METRICS_UNAUTHORIZED', 401, []>(
  'METRICS_UNAUTHORIZED', 'metrics token missing or wrong', 401, Error, false)

export const ADMIN_UNAUTHORIZED = createError<'ADMIN_UNAUTHORIZED', 401, []>(
  'ADMIN_UNAUTHORIZED', 'admin token missing or wrong', 401, Error, false)

export const ADMIN_AUTH_LIMITED = createError<'ADMIN_AUTH_LIMITED', 429, [retryAfterSeconds: number]>(
  'ADMIN_AUTH_LIMITED', 'too many failed admin authentications from this address; retry in %s s', 429, Error, false)

export const ADMIN_NOT_FOUND = createError<'ADMIN_NOT_FOUND', 404, [what: string]>(
  'ADMIN_NOT_FOUND', '%s not found', 404, Error, false)

export const ADMIN_NOT_RETRYABLE = createError<'ADMIN_NOT_RETRYABLE', 409, [fulfilmentId: number, state: string]>(
  'ADMIN_NOT_RETRYABLE', 'fulfilment %s is %s: nothing to retry', 409, Error, false)

export const ADMIN_RECONCILE_NOT_CONFIGURED = createError<'ADMIN_RECONCILE_NOT_CONFIGURED', 409, []>(
  'ADMIN_RECONCILE_NOT_CONFIGURED', 'reconciliation needs FP_API_KEY (the v1 payouts list) or FP_API_V2_KEY and FP_ACCOUNT_ID (the v2 commissions); set them for the api and the worker', 409, Error, false)

export const ADMIN_NO_BODY = createError<'ADMIN_NO_BODY', 409, []>(
  'ADMIN_NO_BODY', 'this delivery kept no body (it was too large); send a corrected body', 409, Error, false)

export const ADMIN_PAUSED_FOR_ALL = createError<'ADMIN_PAUSED_FOR_ALL', 409, [unit: string]>(
  'ADMIN_PAUSED_FOR_ALL', 'grants of every unit are paused, so "%s" cannot be resumed alone: resume all (no body), then pause the units to keep paused', 409, Error, false)

import { createError, type FastifyErrorConstructor } from '@fastify/error'

/*
 * The constructors are annotated with the named type: the declaration emit would otherwise print
 * `createError.FastifyErrorConstructor`, a namespace that `moduleResolution: bundler` cannot see
 * through a default import of a CommonJS module (test/consumer-types.test.ts).
 */
type Ctor<C extends string, S extends number, A extends unknown[]> =
  FastifyErrorConstructor<{ code: C, statusCode: S }, A>

/*
 * One constructor per code the plugin sends (test/errors.test.ts pins the count and checks the
 * README's Errors table against this file, both ways). Option errors are thrown at registration
 * (TypeError, 500) so that a misconfigured server never starts listening. The others are answers,
 * rendered by `errorBody` and never thrown: they capture no stack trace (a wrong-secret flood
 * costs no stack walks). Each constructor is typed with its status code and its arguments.
 */
export const FST_FIRSTPROMOTER_OPTIONS: Ctor<'FST_FIRSTPROMOTER_OPTIONS', 500, [problem: string]> = createError(
  'FST_FIRSTPROMOTER_OPTIONS', 'Invalid fastify-firstpromoter option: %s', 500, TypeError)

export const FST_FIRSTPROMOTER_NOT_FOUND: Ctor<'FST_FIRSTPROMOTER_NOT_FOUND', 404, []> = createError(
  'FST_FIRSTPROMOTER_NOT_FOUND', 'Not Found', 404, Error, false)

export const FST_FIRSTPROMOTER_INVALID_JSON: Ctor<'FST_FIRSTPROMOTER_INVALID_JSON', 400, [reason: string]> = createError(
  'FST_FIRSTPROMOTER_INVALID_JSON', 'Body is not valid JSON: %s', 400, Error, false)

export const FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE: Ctor<'FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE', 415, [contentType: string]> = createError(
  'FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json, got %s', 415, Error, false)

export const FST_FIRSTPROMOTER_BODY_TOO_LARGE: Ctor<'FST_FIRSTPROMOTER_BODY_TOO_LARGE', 413, [limit: number]> = createError(
  'FST_FIRSTPROMOTER_BODY_TOO_LARGE', 'Body is larger than %s bytes', 413, Error, false)

export const FST_FIRSTPROMOTER_INVALID_ENVELOPE: Ctor<'FST_FIRSTPROMOTER_INVALID_ENVELOPE', 400, [problem: string]> = createError(
  'FST_FIRSTPROMOTER_INVALID_ENVELOPE', 'Invalid webhook envelope: %s', 400, Error, false)

export const FST_FIRSTPROMOTER_INVALID_FULFILMENT: Ctor<'FST_FIRSTPROMOTER_INVALID_FULFILMENT', 400, [problem: string]> = createError(
  'FST_FIRSTPROMOTER_INVALID_FULFILMENT', 'Invalid fulfilment_pending data: %s', 400, Error, false)

export const FST_FIRSTPROMOTER_FULFILMENT_FAILED: Ctor<'FST_FIRSTPROMOTER_FULFILMENT_FAILED', 422, [reason: string]> = createError(
  'FST_FIRSTPROMOTER_FULFILMENT_FAILED', 'Fulfilment cannot be granted: %s', 422, Error, false)

export const FST_FIRSTPROMOTER_STORE_UNAVAILABLE: Ctor<'FST_FIRSTPROMOTER_STORE_UNAVAILABLE', 503, []> = createError(
  'FST_FIRSTPROMOTER_STORE_UNAVAILABLE', 'Storage is unavailable, try again later', 503, Error, false)

/** What the route answers for an error it did not expect: the text stays in the log, never in the answer. */
export const FST_FIRSTPROMOTER_INTERNAL: Ctor<'FST_FIRSTPROMOTER_INTERNAL', 500, []> = createError(
  'FST_FIRSTPROMOTER_INTERNAL', 'Internal Server Error', 500, Error, false)

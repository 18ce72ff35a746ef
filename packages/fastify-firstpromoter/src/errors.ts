import createError from '@fastify/error'

/*
 * One constructor per failure. Option errors are thrown at registration (TypeError, 500) so that
 * a misconfigured server never starts listening; the others are answers to a request.
 */
export const FST_FIRSTPROMOTER_OPTIONS = createError('FST_FIRSTPROMOTER_OPTIONS', 'Invalid fastify-firstpromoter option: %s', 500, TypeError)
export const FST_FIRSTPROMOTER_NOT_FOUND = createError('FST_FIRSTPROMOTER_NOT_FOUND', 'Not Found', 404)
export const FST_FIRSTPROMOTER_INVALID_JSON = createError('FST_FIRSTPROMOTER_INVALID_JSON', 'Body is not valid JSON: %s', 400)
export const FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE = createError('FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json, got %s', 415)
export const FST_FIRSTPROMOTER_BODY_TOO_LARGE = createError('FST_FIRSTPROMOTER_BODY_TOO_LARGE', 'Body is larger than %s bytes', 413)
export const FST_FIRSTPROMOTER_INVALID_ENVELOPE = createError('FST_FIRSTPROMOTER_INVALID_ENVELOPE', 'Invalid webhook envelope: %s', 400)
export const FST_FIRSTPROMOTER_INVALID_FULFILMENT = createError('FST_FIRSTPROMOTER_INVALID_FULFILMENT', 'Invalid fulfilment_pending data: %s', 400)
export const FST_FIRSTPROMOTER_FULFILMENT_FAILED = createError('FST_FIRSTPROMOTER_FULFILMENT_FAILED', 'Fulfilment cannot be granted: %s', 422)
export const FST_FIRSTPROMOTER_STORE_UNAVAILABLE = createError('FST_FIRSTPROMOTER_STORE_UNAVAILABLE', 'Storage is unavailable, try again later', 503)

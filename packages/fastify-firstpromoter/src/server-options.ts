import { STATUS_CODES, type Server, type ServerOptions } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/*
 * Server options a plugin cannot set for itself. Fastify's router answers a malformed URL before
 * any route or hook runs, repeating the URL in the body (`'/webhooks/firstpromoter/<secret>%' is
 * not a valid url component`); FirstPromoter keeps part of every answer in its delivery log. And
 * Fastify's defaults let a client hold a connection for ever (no request or connection timeout).
 */

/** Whole request (headers and body) received within this, or the connection is cut (408). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
/** An idle connection (nothing received or sent) is closed after this. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000
/** A kept-alive connection with no new request is closed after this. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000

const FRAMEWORK_ANSWERS: Record<string, readonly [number, string]> = {
  FST_ERR_BAD_URL: [400, 'The URL is not valid: it has a malformed percent-encoding'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'A segment of the URL is too long'],
  FST_ERR_INVALID_URL: [400, 'The URL is not valid']
}

/**
 * Fastify's `frameworkErrors` server option: answers the router's own errors (a malformed
 * percent-encoding, a path segment over `maxParamLength`) with a fixed reason, never the URL, and
 * logs them by code only.
 * @example Fastify({ frameworkErrors })
 */
export function frameworkErrors (error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const [statusCode, message] = FRAMEWORK_ANSWERS[error.code] ?? [500, 'Internal Server Error']
  req.log.info({ code: error.code, statusCode }, 'request refused before routing')
  reply.code(statusCode).send({ statusCode, code: error.code, error: STATUS_CODES[statusCode], message })
}

/**
 * Fastify's `clientErrorHandler` server option, for what Node's HTTP parser refuses (a bad request
 * line, headers too large, a request timeout). Fastify's default logs the error with its
 * `rawPacket`, the raw request with its URL; this logs the code only, and writes no second answer
 * on a connection whose response has already begun.
 */
export function clientErrorHandler (this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const statusCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  this.log.debug({ code: err.code, statusCode }, 'client error')
  // Node's own handler checks the same private field: an answer (a 404 sent before the body was
  // read) may already be on the wire.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && inFlight?.headersSent !== true) {
    const reason = STATUS_CODES[statusCode]
    const body = JSON.stringify({ statusCode, error: reason, message: reason })
    socket.write(`HTTP/1.1 ${statusCode} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }
  socket.destroy()
}

export interface FirstPromoterServerTimeouts {
  /** Default 10000 ms. */
  requestTimeoutMs?: number
  /** Default 10000 ms. */
  connectionTimeoutMs?: number
  /** Default 5000 ms. */
  keepAliveTimeoutMs?: number
}

/**
 * Server options for a Fastify server that receives FirstPromoter webhooks: `frameworkErrors` and
 * `clientErrorHandler` above, and timeouts well under FirstPromoter's 15 s answer window, so that a
 * slow or stalled client is cut off. Spread them into `Fastify({ ...firstPromoterServerOptions(), ... })`.
 * @param timeouts each in milliseconds; a request timeout of 0 turns it off (Fastify reads 0 as
 *   its default for the other two: 72 s keep-alive, no connection timeout)
 * @returns options for `Fastify()` (an HTTP/1 server)
 */
export function firstPromoterServerOptions (
  timeouts: FirstPromoterServerTimeouts = {}
): FastifyHttpOptions<Server> & { http: ServerOptions } {
  const requestTimeout = timeouts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  return {
    frameworkErrors,
    clientErrorHandler,
    requestTimeout,
    connectionTimeout: timeouts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    // Node checks request timeouts on this interval (30 s by default), so it bounds how late a
    // timed-out client is cut off; headers count against the request timeout too.
    http: requestTimeout > 0
      ? {
          connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(requestTimeout / 4))),
          headersTimeout: requestTimeout,
          requestTimeout
        }
      : {}
  }
}

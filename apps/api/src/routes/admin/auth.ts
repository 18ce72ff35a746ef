import type { FastifyReply, FastifyRequest } from 'fastify'
import { createSecretMatcher } from 'fastify-firstpromoter'
import { errorReply } from '../../error-reply.js'
import { ADMIN_AUTH_LIMITED, ADMIN_UNAUTHORIZED } from '../../errors.js'

/**
 * `fastify.createRateLimit(…)` of @fastify/rate-limit: counts one request per call,
 * or peeks with `increment: false`.
 */
export type FailureLimiter = (
  req: FastifyRequest,
  options?: { increment?: boolean }
) => Promise<{ isAllowed: boolean, remaining?: number, ttlInSeconds?: number }>

/** The token a request presents: `Authorization: Bearer <token>`, or HTTP Basic with the token as password. */
function presentedToken (header: string): string | undefined {
  if (header.startsWith('Bearer ')) return header.slice(7).trim()
  if (header.startsWith('Basic ')) return Buffer.from(header.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':')
  return undefined
}

const spent = (status: { isAllowed: boolean, remaining?: number }) => !status.isAllowed && status.remaining === 0

/**
 * Accepts `Authorization: Bearer <ADMIN_TOKEN>`, or HTTP Basic with the token as password so a
 * browser can open the queue dashboard. Compared in constant time.
 *
 * Each wrong token presented spends one of the client's failures (`failures`, keyed on `req.ip`);
 * once they are spent, every admin request from that client is answered 429 until the window ends,
 * the right token included: answering a right guess differently would let a brute force go on.
 * A request with no credentials guesses nothing and spends nothing (a browser before its Basic
 * prompt would otherwise lock its operator out).
 */
export function adminAuth (token: string, failures: FailureLimiter) {
  const matches = createSecretMatcher([token])
  return async function checkAdmin (req: FastifyRequest, reply: FastifyReply) {
    const before = await failures(req, { increment: false })
    if (spent(before)) {
      const retryAfter = Math.max(1, before.ttlInSeconds ?? 1)
      return reply.code(429).header('retry-after', retryAfter).send(errorReply(new ADMIN_AUTH_LIMITED(retryAfter)))
    }
    const given = presentedToken(req.headers.authorization ?? '')
    if (matches(given)) return
    if (given) {
      const after = await failures(req)
      if (spent(after)) req.log.warn({ remoteAddress: req.ip, retryAfterSeconds: after.ttlInSeconds }, 'failed admin authentications from this address reached the limit; its admin requests are refused until the window ends')
    }
    reply.header('www-authenticate', 'Basic realm="firstpromoter-admin", charset="UTF-8"')
    return reply.code(401).send(errorReply(new ADMIN_UNAUTHORIZED()))
  }
}

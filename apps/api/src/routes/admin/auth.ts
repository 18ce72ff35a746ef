import type { FastifyReply, FastifyRequest } from 'fastify'
import { createSecretMatcher } from 'fastify-firstpromoter'

/**
 * Accepts `Authorization: Bearer <ADMIN_TOKEN>`, or HTTP Basic with the token as password so a
 * browser can open the queue dashboard. Compared in constant time.
 */
export function adminAuth (token: string) {
  const matches = createSecretMatcher([token])
  return async function checkAdmin (req: FastifyRequest, reply: FastifyReply) {
    const header = req.headers.authorization ?? ''
    let given: string | undefined
    if (header.startsWith('Bearer ')) given = header.slice(7).trim()
    else if (header.startsWith('Basic ')) given = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':').slice(1).join(':')
    if (!matches(given)) {
      reply.header('www-authenticate', 'Basic realm="firstpromoter-admin", charset="UTF-8"')
      return reply.code(401).send({ statusCode: 401, code: 'ADMIN_UNAUTHORIZED', error: 'Unauthorized', message: 'admin token missing or wrong' })
    }
  }
}

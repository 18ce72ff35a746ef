import type { FastifyInstance } from 'fastify'
import { noticeQuery } from '../notices.js'
import { endSession, startSession, tokenMatches } from '../session.js'
import { csrfField, type ConsoleContext } from '../context.js'

const spent = (status: { isAllowed: boolean, remaining?: number }) => !status.isAllowed && status.remaining === 0

/**
 * Login and logout. A wrong token spends one of the client's login failures; once they are spent
 * every login from that address is refused until the window ends, the right token included.
 */
export async function authRoutes (fastify: FastifyInstance, { ctx }: { ctx: ConsoleContext }): Promise<void> {
  const { base, render, loginLimiter } = ctx

  fastify.post('/login', {
    schema: { body: { type: 'object', properties: { token: { type: 'string', maxLength: 1000 }, ...csrfField } } },
    preHandler: ctx.csrfProtection
  }, async (req, reply) => {
    const before = await loginLimiter(req, { increment: false })
    if (spent(before)) {
      const retryAfter = Math.max(1, before.ttlInSeconds ?? 1)
      reply.header('retry-after', retryAfter)
      return render(reply, 'login', { error: `Too many failed logins from this address: try again in ${retryAfter} s.` }, 429)
    }
    const presented = (req.body as { token?: string }).token
    if (!tokenMatches(ctx.opts.token, presented)) {
      const after = await loginLimiter(req)
      req.log.warn({ remoteAddress: req.ip, spent: spent(after) }, 'console: login refused, wrong token')
      return render(reply, 'login', { error: 'That is not the admin token.' }, 401)
    }
    const session = startSession(reply, ctx.cookiePath, ctx.opts.sessionTtlMs)
    req.log.info({ remoteAddress: req.ip, session: session.id.slice(0, 6) }, 'console: logged in')
    return reply.code(303).redirect(`${base}/`)
  })

  fastify.post('/logout', {
    schema: { body: { type: 'object', properties: csrfField } },
    preHandler: [ctx.requireSession, ctx.csrfProtection]
  }, async (req, reply) => {
    endSession(reply, ctx.cookiePath)
    req.log.info({ remoteAddress: req.ip }, 'console: logged out')
    return reply.code(303).redirect(`${base}/${noticeQuery('logged-out')}`)
  })
}

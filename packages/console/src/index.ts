import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import fastifyStatic from '@fastify/static'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { normalizeConsoleOptions, DEFAULT_LOGIN_FAILURES, DEFAULT_LOGIN_WINDOW_MS, type ConsoleOptions, type LoginLimiter } from './options.js'
import { authRoutes } from './pages/auth.js'
import { eventPages } from './pages/events.js'
import { fulfilmentPages } from './pages/fulfilments.js'
import { overviewPage } from './pages/overview.js'
import { pauseRoutes } from './pages/pauses.js'
import { quarantinePages } from './pages/quarantine.js'
import { createRender, PUBLIC_DIR } from './render.js'
import { CSRF_COOKIE, cookieOptions, deriveSessionSecret, readSession, type ConsoleSession } from './session.js'
import type { ConsoleContext } from './context.js'

export type { ConsoleOptions, ConsoleActions, ConsolePauses, PauseState, LoginLimiter, RetryOutcome, RetryCloseOutcome, ResubmitOutcome } from './options.js'
export { DEFAULT_SESSION_TTL_MS, DEFAULT_LOGIN_FAILURES, DEFAULT_LOGIN_WINDOW_MS } from './options.js'
export { SESSION_COOKIE, CSRF_COOKIE, deriveSessionSecret } from './session.js'
export { hourlyChart } from './chart.js'
export { operationsActions, type OperationsActionsOptions } from './actions.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The console's login, when the request carries a valid session cookie. */
    consoleSession: ConsoleSession | null
  }
}

/**
 * The Content-Security-Policy of every console page: nothing but this server's own script,
 * stylesheet and images; no inline script or style, no framing, forms only to itself.
 */
export const CONSOLE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"]
}

/**
 * The operator console: server-rendered pages (Eta templates, one small script and stylesheet of
 * its own) under the prefix it is registered with, e.g. `/admin/console`. Encapsulated on purpose:
 * its cookie, CSRF, form-body and security-header plugins apply to its own routes only.
 *
 * Login asks for the admin token and sets a signed session cookie (Secure, HttpOnly,
 * SameSite=Strict, scoped to the prefix); every form that changes state carries a CSRF token bound
 * to that session.
 */
export async function fastifyConsole (fastify: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const opts = normalizeConsoleOptions(options, deriveSessionSecret)
  const base = fastify.prefix.replace(/\/$/, '')
  const cookiePath = base || '/'

  await fastify.register(cookie, { secret: opts.sessionSecret })
  await fastify.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { ...cookieOptions(cookiePath), signed: true },
    // Bound to the login, so a CSRF cookie planted by a sibling subdomain is worth nothing.
    getUserInfo: (req: FastifyRequest) => req.consoleSession?.id ?? 'anonymous',
    getToken: (req: FastifyRequest) => (req.body as { _csrf?: string } | undefined)?._csrf,
    csrfOpts: { hmacKey: opts.sessionSecret }
  })
  await fastify.register(formbody, { bodyLimit: 1_048_576 })
  await fastify.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP },
    referrerPolicy: { policy: 'no-referrer' }
  })
  await fastify.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/assets/', decorateReply: false, index: false, maxAge: '1h' })

  let loginLimiter: LoginLimiter | undefined = opts.loginLimiter
  if (!loginLimiter) {
    if (!fastify.hasDecorator('createRateLimit')) await fastify.register(rateLimit, { global: false })
    loginLimiter = fastify.createRateLimit({ max: DEFAULT_LOGIN_FAILURES, timeWindow: DEFAULT_LOGIN_WINDOW_MS })
  }

  fastify.decorateRequest('consoleSession', null)
  fastify.addHook('onRequest', async (req) => { req.consoleSession = readSession(req) })

  const render = createRender(async (reply) => {
    const req = reply.request
    const session = req.consoleSession
    return {
      base,
      session,
      links: opts.links,
      csrf: reply.generateCsrf({ userInfo: session?.id ?? 'anonymous' }),
      // The pause banner's slot: filled only when a pause switch is plugged in.
      pauses: session && opts.pauses ? await opts.pauses.status().catch(() => null) : null,
      pausable: Boolean(opts.pauses)
    }
  })

  const ctx: ConsoleContext = {
    opts,
    base,
    cookiePath,
    render,
    loginLimiter,
    requireSession: async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.consoleSession) return
      if (req.method === 'GET') return reply.code(303).header('cache-control', 'no-store').redirect(`${base}/`)
      return render(reply, 'login', { error: 'Your session has ended: log in again.' }, 401)
    },
    csrfProtection: fastify.csrfProtection
  }

  fastify.setErrorHandler(async (err: FastifyError, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500
    if (status >= 500) req.log.error({ err }, 'console: request failed')
    const message = err.code?.startsWith('FST_CSRF_')
      ? 'This form has expired or did not come from the console (CSRF check failed). Reload the page and try again.'
      : status >= 500 ? 'Something went wrong; the server log has the details.' : err.message
    return render(reply, 'error', { status, message }, status)
  })
  fastify.setNotFoundHandler(async (_req, reply) => render(reply, 'error', { status: 404, message: 'No such page in the console.' }, 404))

  await fastify.register(authRoutes, { ctx })
  await fastify.register(overviewPage, { ctx })
  await fastify.register(fulfilmentPages, { ctx })
  await fastify.register(quarantinePages, { ctx })
  await fastify.register(eventPages, { ctx })
  if (opts.pauses) await fastify.register(pauseRoutes, { ctx, pauses: opts.pauses })
}

export default fastifyConsole

import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type {} from '@fastify/swagger'
import { adminAuth } from './auth.js'
import { consoleRoutes } from './console.js'
import { eventRoutes } from './events.js'
import { fulfilmentRoutes } from './fulfilments.js'
import { grantPauseRoutes } from './grant-pauses.js'
import { quarantineRoutes } from './quarantine.js'
import { queueDashboard } from './queues.js'

export interface AdminOptions {
  token: string
  /** The webhook URL with a valid secret, for resubmitting quarantined bodies. */
  webhookUrl: string
  /** Requests a minute per client address, once authenticated. Default 120. */
  rateLimitPerMinute?: number
  /** Wrong tokens a client address may present per window before all its admin requests get 429. Default 10. */
  authFailureLimit?: number
  /** That window, in ms. Default 15 minutes. */
  authFailureWindowMs?: number
  /** FP_API_KEY (or the v2 key and account id) is set, so `POST /admin/reconcile` can work (409 otherwise). */
  reconcileConfigured?: boolean
}

export const DEFAULT_AUTH_FAILURE_LIMIT = 10
export const DEFAULT_AUTH_FAILURE_WINDOW_MS = 15 * 60_000

/**
 * Everything under `/admin`, behind the bearer token (the console: its login) and two rate limits per client address
 * (`req.ip`: the socket address unless TRUST_PROXY names the proxy in front): a small budget of
 * failed authentications, checked in the auth hook itself (rate-limit's own hook is added to each
 * route and runs after an instance `onRequest` hook, so a 401 would never reach it), and a
 * general one for authenticated requests. Both count in this process's memory: admin must work
 * while Redis is down, and N api processes give a client at most N budgets.
 * Registered only when ADMIN_TOKEN is set.
 */
export async function adminRoutes (fastify: FastifyInstance, opts: AdminOptions): Promise<void> {
  await fastify.register(rateLimit, { max: opts.rateLimitPerMinute ?? 120, timeWindow: 60_000 })
  const failures = fastify.createRateLimit({
    max: opts.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT,
    timeWindow: opts.authFailureWindowMs ?? DEFAULT_AUTH_FAILURE_WINDOW_MS
  })
  fastify.addHook('onRoute', (route) => {
    // The dashboard's and the console's own pages and assets stay out of the OpenAPI document.
    const page = route.url.startsWith(`${fastify.prefix}/queues`) || route.url.startsWith(`${fastify.prefix}/console`)
    route.schema = { ...route.schema, ...(page ? { hide: true } : { tags: ['admin'], security: [{ adminToken: [] }] }) }
  })
  // The console logs in with a form and a session cookie, so it sits beside the bearer check (not
  // under it), spending the same failure budget.
  await fastify.register(consoleRoutes, { prefix: '/console', token: opts.token, webhookUrl: opts.webhookUrl, failures, queuesUrl: `${fastify.prefix}/queues/` })
  await fastify.register(async (api) => {
    api.addHook('onRequest', adminAuth(opts.token, failures))
    await api.register(eventRoutes)
    await api.register(fulfilmentRoutes, { reconcileConfigured: opts.reconcileConfigured ?? false })
    await api.register(quarantineRoutes, { webhookUrl: opts.webhookUrl })
    await api.register(grantPauseRoutes)
    await api.register(queueDashboard, { prefix: '/queues' })
  })
}

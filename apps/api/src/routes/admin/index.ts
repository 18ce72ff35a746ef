import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type {} from '@fastify/swagger'
import { adminAuth } from './auth.js'
import { eventRoutes } from './events.js'
import { fulfilmentRoutes } from './fulfilments.js'
import { quarantineRoutes } from './quarantine.js'
import { queueDashboard } from './queues.js'

export interface AdminOptions {
  token: string
  /** The webhook URL with a valid secret, for resubmitting quarantined bodies. */
  webhookUrl: string
  /** Requests a minute per client address. Default 120. */
  rateLimitPerMinute?: number
}

/** Everything under `/admin`, behind the bearer token and a rate limit. Registered only when ADMIN_TOKEN is set. */
export async function adminRoutes (fastify: FastifyInstance, opts: AdminOptions): Promise<void> {
  await fastify.register(rateLimit, { max: opts.rateLimitPerMinute ?? 120, timeWindow: 60_000 })
  fastify.addHook('onRequest', adminAuth(opts.token))
  fastify.addHook('onRoute', (route) => {
    // The dashboard's own pages and assets stay out of the OpenAPI document.
    const dashboard = route.url.includes('/queues')
    route.schema = { ...route.schema, ...(dashboard ? { hide: true } : { tags: ['admin'], security: [{ adminToken: [] }] }) }
  })
  await fastify.register(eventRoutes)
  await fastify.register(fulfilmentRoutes)
  await fastify.register(quarantineRoutes, { webhookUrl: opts.webhookUrl })
  await fastify.register(queueDashboard, { prefix: '/queues' })
}

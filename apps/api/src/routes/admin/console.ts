import { fastifyConsole, operationsActions, type LoginLimiter } from '@fp-webhooks/console'
import type { FastifyInstance } from 'fastify'

export interface ConsoleRoutesOptions {
  token: string
  webhookUrl: string
  /** The admin API's failed-authentication budget: a wrong token at the login form spends it too. */
  failures: LoginLimiter
  /** Where the queue dashboard is, for the console's header. */
  queuesUrl: string
}

/**
 * The operator console (`@fp-webhooks/console`) on this api's database and queues, its buttons
 * doing what the admin API's routes do, through the same operations.
 */
export async function consoleRoutes (fastify: FastifyInstance, opts: ConsoleRoutesOptions): Promise<void> {
  const db = fastify.db.db
  const queue = fastify.queue
  await fastify.register(fastifyConsole, {
    db,
    token: opts.token,
    queues: queue.queues,
    loginLimiter: opts.failures,
    links: [{ label: 'Queues', href: opts.queuesUrl }],
    actions: operationsActions({ db, jobs: queue.jobs, server: fastify, webhookUrl: opts.webhookUrl })
  })
}

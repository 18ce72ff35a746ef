import { fastifyConsole, operationsActions, type LoginLimiter } from '@fp-webhooks/console'
import type { FastifyInstance } from 'fastify'
import { Value } from '@sinclair/typebox/value'
import { ADMIN_PAUSED_FOR_ALL } from '../../errors.js'
import { PauseUnitSchema } from './grant-pauses.js'

/** The console's form field, checked as the admin API checks its body. @throws a 400 the console shows */
function checkedUnit (unit: string | undefined): string | undefined {
  if (unit === undefined || Value.Check(PauseUnitSchema, unit)) return unit
  throw Object.assign(new Error('unit must be 1–100 characters without spaces, and not "all" or "*"'), { statusCode: 400 })
}

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
    pauses: {
      status: async () => {
        const s = await fastify.grantPauses.cachedStatus()
        const oldest = [s.all, ...s.units]
          .filter((p) => p !== null)
          .sort((a, b) => a.pausedAt.getTime() - b.pausedAt.getTime())[0]
        return {
          all: s.all !== null,
          units: s.units.map((p) => p.scope),
          since: s.all?.pausedAt ?? oldest?.pausedAt ?? null,
          by: s.all?.pausedBy ?? oldest?.pausedBy ?? null
        }
      },
      pause: async ({ unit, by }) => { await fastify.grantPauses.pause({ unit: checkedUnit(unit), by }) },
      resume: async ({ unit, by }) => {
        const outcome = await fastify.grantPauses.resume({ unit: checkedUnit(unit), by })
        if (!outcome.resumed) throw new ADMIN_PAUSED_FOR_ALL(unit ?? '')
      }
    },
    actions: operationsActions({ db, jobs: queue.jobs, server: fastify, webhookUrl: opts.webhookUrl })
  })
}

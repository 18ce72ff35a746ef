import { getGlance, listNeedsAttention } from '@fp-webhooks/db'
import type { FastifyInstance } from 'fastify'
import { hourlyChart } from '../chart.js'
import { noticeFrom } from '../notices.js'
import { withinMs, type ConsoleContext } from '../context.js'

/** What the grants queue holds: jobs waiting to run, waiting out a backoff, running. */
async function grantJobs (ctx: ConsoleContext) {
  const grants = ctx.opts.queues?.grants
  if (!grants) return null
  return withinMs(1500, async () => {
    const c = await grants.getJobCounts('waiting', 'prioritized', 'delayed', 'active')
    return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), delayed: c.delayed ?? 0, active: c.active ?? 0 }
  })
}

/** `GET /`: the login form, or once logged in the overview (at a glance, needs a human). */
export async function overviewPage (fastify: FastifyInstance, { ctx }: { ctx: ConsoleContext }): Promise<void> {
  fastify.get('/', async (req, reply) => {
    const notice = noticeFrom(req.query as Record<string, unknown>)
    if (!req.consoleSession) return ctx.render(reply, 'login', { notice })
    const db = ctx.opts.db
    const [needs, glance, jobs] = await Promise.all([listNeedsAttention(db, 50), getGlance(db, 48), grantJobs(ctx)])
    return ctx.render(reply, 'overview', {
      page: 'overview',
      notice,
      needs,
      glance,
      jobs,
      charts: {
        deliveries: hourlyChart(glance.hours, 'deliveries', 'deliveries'),
        grants: hourlyChart(glance.hours, 'grants', 'grants'),
        failures: hourlyChart(glance.hours, 'failures', 'failures')
      },
      totals: {
        deliveries: glance.hours.reduce((n, h) => n + h.deliveries, 0),
        grants: glance.hours.reduce((n, h) => n + h.grants, 0),
        failures: glance.hours.reduce((n, h) => n + h.failures, 0)
      }
    })
  })
}

import { countEventsByState, countFulfilmentsByUnitAndState, countQuarantine } from '@fp-webhooks/db'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type {} from '@fastify/swagger'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * `GET /metrics` in Prometheus text. Counters move with each delivery answered here; gauges for
 * grants, backlog, queues and quarantine are read from Postgres and Redis at scrape time, so they
 * are the same whichever api process is scraped and include the workers' work.
 */
async function metrics (fastify: FastifyInstance): Promise<void> {
  const register = new Registry()
  collectDefaultMetrics({ register, prefix: 'fp_api_' })

  const deliveries = new Counter({
    name: 'fp_webhook_deliveries_total',
    help: 'FirstPromoter deliveries answered, by event type and status code',
    labelNames: ['event_type', 'status_code'] as const,
    registers: [register]
  })
  const fulfilmentAnswer = new Histogram({
    name: 'fp_fulfilment_answer_seconds',
    help: 'Time to answer a fulfilment_pending delivery (including the wait for its grant), by status code',
    labelNames: ['status_code'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
    registers: [register]
  })

  const safely = async (what: string, fn: () => Promise<void>) => {
    try { await fn() } catch (err) { fastify.log.warn({ err: { message: (err as Error).message } }, `metrics: could not read ${what}`) }
  }

  const gauges = [new Gauge({
    name: 'fp_fulfilments',
    help: 'Fulfilments by unit and state (granted = rewards granted, failed = needs a human)',
    labelNames: ['unit', 'state'] as const,
    registers: [],
    async collect () {
      this.reset()
      await safely('fulfilments', async () => {
        const rows = await countFulfilmentsByUnitAndState(fastify.db.db)
        for (const r of rows) this.set({ unit: r.unit, state: r.state }, r.n)
      })
    }
  }), new Gauge({
    name: 'fp_inbox_events',
    help: 'Inbox rows by processing state (pending = not processed yet)',
    labelNames: ['state'] as const,
    registers: [],
    async collect () {
      this.reset()
      await safely('inbox', async () => {
        const rows = await countEventsByState(fastify.db.db)
        for (const r of rows) this.set({ state: r.state }, r.n)
      })
    }
  }), new Gauge({
    name: 'fp_quarantine_deliveries',
    help: 'Rejected deliveries kept in quarantine and not resubmitted',
    registers: [],
    async collect () {
      await safely('quarantine', async () => { this.set(await countQuarantine(fastify.db.db)) })
    }
  }), new Gauge({
    name: 'fp_queue_jobs',
    help: 'BullMQ jobs by queue and state (waiting, active, delayed, failed)',
    labelNames: ['queue', 'state'] as const,
    registers: [],
    async collect () {
      this.reset()
      await safely('queues', async () => {
        for (const queue of Object.values(fastify.queue.queues)) {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')
          for (const [state, n] of Object.entries(counts)) this.set({ queue: queue.name, state }, n)
        }
      })
    }
  })]
  for (const gauge of gauges) register.registerMetric(gauge)

  fastify.addHook('onResponse', async (req, reply) => {
    const delivery = req.firstpromoterDelivery
    if (!delivery) {
      // Rejected before the envelope was read: counted under its status, type unknown.
      if (req.routeOptions.url?.startsWith(fastify.firstpromoter.prefix)) deliveries.inc({ event_type: 'unknown', status_code: String(reply.statusCode) })
      return
    }
    deliveries.inc({ event_type: delivery.eventType ?? 'unknown', status_code: String(reply.statusCode) })
    if (delivery.fulfilmentId !== null) fulfilmentAnswer.observe({ status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })

  fastify.get('/metrics', { logLevel: 'warn', schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', register.contentType)
    return register.metrics()
  })
}

export const metricsPlugin = fp(metrics, { name: 'fp-metrics', dependencies: ['fastify-firstpromoter'] })

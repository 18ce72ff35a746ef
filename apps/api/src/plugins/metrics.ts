import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { createSecretMatcher } from 'fastify-firstpromoter'
import { errorReply } from '../error-reply.js'
import { METRICS_UNAUTHORIZED } from '../errors.js'
import type {} from '@fastify/swagger'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { eventTypeLabel, UNKNOWN_EVENT_TYPE } from './event-type-label.js'
import { createCountsRefresher } from './metrics-counts.js'

export interface MetricsOptions {
  /** When set, `/metrics` wants `Authorization: Bearer <token>` (METRICS_TOKEN). */
  token?: string
  /** How often the row and job counts are read in the background (METRICS_REFRESH_MS). */
  refreshMs: number
}

/** `onRequest` for `/metrics` when a token is configured: 401 unless the bearer token matches (constant time). */
function metricsAuth (token: string) {
  const matches = createSecretMatcher([token])
  return async function checkMetricsToken (req: FastifyRequest, reply: FastifyReply) {
    const header = req.headers.authorization ?? ''
    if (matches(header.startsWith('Bearer ') ? header.slice(7).trim() : undefined)) return
    reply.header('www-authenticate', 'Bearer realm="metrics"')
    return reply.code(401).send(errorReply(new METRICS_UNAUTHORIZED()))
  }
}

/**
 * `GET /metrics` in Prometheus text. Counters move with each delivery answered here; gauges for
 * grants, backlog, queues and quarantine come from Postgres and Redis (so they are the same
 * whichever api process is scraped and include the workers' work), read in the background and
 * served from memory: a scrape queries nothing.
 */
async function metrics (fastify: FastifyInstance, opts: MetricsOptions): Promise<void> {
  const register = new Registry()
  collectDefaultMetrics({ register, prefix: 'fp_api_' })

  const deliveries = new Counter({
    name: 'fp_webhook_deliveries_total',
    help: 'FirstPromoter deliveries answered, by event type (undocumented types as "other") and status code',
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

  const refresher = createCountsRefresher({
    db: fastify.db.db,
    queues: Object.values(fastify.queue.queues),
    intervalMs: opts.refreshMs,
    log: fastify.log
  })
  const { counts } = refresher
  fastify.addHook('onReady', async () => { refresher.start() })
  fastify.addHook('onClose', async () => { await refresher.stop() })

  const gauges = [new Gauge({
    name: 'fp_fulfilments',
    help: 'Fulfilments by unit and state (granted = rewards granted, failed = needs a human)',
    labelNames: ['unit', 'state'] as const,
    registers: [],
    collect () {
      this.reset()
      for (const r of counts.fulfilments) this.set({ unit: r.unit, state: r.state }, r.n)
    }
  }), new Gauge({
    name: 'fp_grants_retrying',
    help: 'Fulfilments whose grant failed transiently and is being retried with backoff (answered 202 meanwhile), by unit',
    labelNames: ['unit'] as const,
    registers: [],
    collect () {
      this.reset()
      for (const r of counts.retrying) this.set({ unit: r.unit }, r.n)
    }
  }), new Gauge({
    name: 'fp_grants_paused',
    help: 'The pause switch of grants: 1 while paused, for every unit (unit="all") or one unit; read from Postgres, cached 1 s',
    labelNames: ['unit'] as const,
    registers: [],
    async collect () {
      const status = await fastify.grantPauses.cachedStatus().catch(() => null)
      this.reset()
      if (!status) return
      this.set({ unit: 'all' }, status.all ? 1 : 0)
      for (const p of status.units) this.set({ unit: p.scope }, 1)
    }
  }), new Gauge({
    name: 'fp_inbox_events',
    help: 'Inbox rows by processing state (pending = not processed yet, test = a v2 test delivery, never processed)',
    labelNames: ['state'] as const,
    registers: [],
    collect () {
      this.reset()
      for (const r of counts.inbox) this.set({ state: r.state }, r.n)
    }
  }), new Gauge({
    name: 'fp_quarantine_deliveries',
    help: 'Rejected deliveries kept in quarantine and not resubmitted',
    registers: [],
    collect () {
      this.reset()
      if (counts.quarantine !== null) this.set(counts.quarantine)
    }
  }), new Gauge({
    name: 'fp_queue_jobs',
    help: 'BullMQ jobs by queue and state (waiting, active, delayed, failed)',
    labelNames: ['queue', 'state'] as const,
    registers: [],
    collect () {
      this.reset()
      for (const r of counts.queues) this.set({ queue: r.queue, state: r.state }, r.n)
    }
  }), new Gauge({
    name: 'fp_metrics_refreshed_timestamp_seconds',
    help: 'When the gauges above were last read from Postgres and Redis (every source), as a Unix time; they are refreshed every METRICS_REFRESH_MS',
    registers: [],
    collect () {
      this.reset()
      if (counts.refreshedAt !== null) this.set(counts.refreshedAt / 1000)
    }
  })]
  for (const gauge of gauges) register.registerMetric(gauge)

  fastify.addHook('onResponse', async (req, reply) => {
    const delivery = req.firstpromoterDelivery
    if (!delivery) {
      // Rejected before the envelope was read: counted under its status, type unknown.
      if (req.routeOptions.url?.startsWith(fastify.firstpromoter.prefix)) {
        deliveries.inc({ event_type: UNKNOWN_EVENT_TYPE, status_code: String(reply.statusCode) })
      }
      return
    }
    deliveries.inc({ event_type: eventTypeLabel(delivery.eventType), status_code: String(reply.statusCode) })
    if (delivery.fulfilmentId !== null) {
      fulfilmentAnswer.observe({ status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    }
  })

  fastify.get('/metrics', {
    logLevel: 'warn',
    schema: { hide: true },
    ...(opts.token ? { onRequest: metricsAuth(opts.token) } : {})
  }, async (_req, reply) => {
    reply.header('content-type', register.contentType)
    return register.metrics()
  })
}

export const metricsPlugin = fp(metrics, { name: 'fp-metrics', dependencies: ['fastify-firstpromoter'] })

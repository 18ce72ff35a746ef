import { createDb, createPostgresStore, type DbHandle } from '@fp-webhooks/db'
import { createBullDispatcher, type BullDispatcher } from '@fp-webhooks/queue'
import swagger from '@fastify/swagger'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import fastifyFirstPromoter, { maskSecrets } from 'fastify-firstpromoter'
import { startConfiguredWorker, type ConfiguredWorker, type FirstPromoterDefinition, type WorkerConfig } from '@fp-webhooks/worker'
import type { Logger } from 'pino'
import { v2AuthOptions, type ApiConfig } from './config.js'
import { errorReply } from './error-reply.js'
import { createGrantPauseSwitch, type GrantPauseSwitch } from '@fp-webhooks/operations'
import { metricsPlugin } from './plugins/metrics.js'
import { adminRoutes } from './routes/admin/index.js'
import { healthRoutes } from './routes/health.js'

export const WEBHOOK_PREFIX = '/webhooks/firstpromoter'

export interface AppOptions {
  config: ApiConfig
  /** The definition module's export (FP_DEFINITION_MODULE), validated at start; an in-process worker runs it. */
  definition?: FirstPromoterDefinition
  /**
   * When set (WORKER_IN_PROCESS=true), the worker runs in this process with this configuration,
   * closed with the server.
   */
  worker?: WorkerConfig
}

declare module 'fastify' {
  interface FastifyInstance {
    db: DbHandle
    queue: BullDispatcher
    /** The in-process worker (WORKER_IN_PROCESS=true); null when the worker runs apart. */
    inProcessWorker: ConfiguredWorker | null
    /** The pause switch of grants (Postgres), shared by the admin API, the console and metrics. */
    grantPauses: GrantPauseSwitch
  }
}

/**
 * The api as a Fastify plugin: the FirstPromoter route on the Postgres store and BullMQ dispatcher,
 * plus health. Connections it opens are closed in `onClose`.
 */
async function api (fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  const { config } = opts
  const db = createDb(config.DATABASE_URL, { max: 20, connectTimeout: 3, applicationName: 'firstpromoter-api' })
  // Events go through the outbox (the worker's relay queues them); grants are queued by the request.
  const queue = createBullDispatcher({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, events: 'outbox' })
  if (!await queue.ready()) fastify.log.warn('Redis is not reachable yet; deliveries are stored and enqueued once it is')
  fastify.decorate('db', db)
  fastify.decorate('queue', queue)
  const grantPauses = createGrantPauseSwitch({ db: db.db, jobs: queue.jobs, log: fastify.log })
  fastify.decorate('grantPauses', grantPauses)
  fastify.addHook('onClose', async () => {
    await queue.close()
    await db.close()
  })
  if (opts.definition) {
    fastify.log.info({ grants: Object.keys(opts.definition.grants), handlers: opts.definition.handlers.size }, 'definition module loaded')
  }
  // On a pool and connections of its own: its jobs never wait for the routes' connections.
  const inProcessWorker = opts.worker ? await startConfiguredWorker(opts.worker, opts.definition, fastify.log.child({ name: 'worker' }) as unknown as Logger) : null
  fastify.decorate('inProcessWorker', inProcessWorker)
  if (inProcessWorker) fastify.addHook('onClose', () => inProcessWorker.close())

  const secrets = config.FP_WEBHOOK_SECRET.split(',').map((s) => s.trim()).filter(Boolean)
  fastify.setErrorHandler((err: FastifyError, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500
    if (status >= 500) req.log.error({ err }, 'request failed')
    // 5xx text may hold internals; the client gets the status and a generic message. A 4xx
    // message may quote the URL, which may hold a secret.
    const message = status >= 500 ? 'Internal Server Error' : maskSecrets(err.message, secrets)
    reply.code(status).send(errorReply({ statusCode: status, code: err.code ?? 'ERROR', name: err.name, message }))
  })

  await fastify.register(swagger, {
    openapi: {
      info: { title: 'FirstPromoter webhook receiver', version: '0.1.0', description: 'Receives FirstPromoter webhooks; admin API for operators.' },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } }
    },
    // The webhook route's secret segment is documented as a parameter, never with a value.
    hideUntagged: false
  })

  await fastify.register(fastifyFirstPromoter, {
    secrets: config.FP_WEBHOOK_SECRET,
    store: createPostgresStore(db.db, {
      groupCommit: { maxRows: config.FP_INGEST_BATCH_ROWS, maxWaitMs: config.FP_INGEST_BATCH_WAIT_MS }
    }),
    dispatcher: queue.dispatcher,
    prefix: WEBHOOK_PREFIX,
    bodyLimit: config.FP_BODY_LIMIT,
    fulfilmentWaitMs: config.FP_FULFILMENT_WAIT_MS,
    personalData: config.FP_PERSONAL_DATA,
    redactPaths: config.FP_REDACT_PATHS.split(',').map((p) => p.trim()).filter(Boolean),
    acceptV2: config.FP_ACCEPT_V2,
    ...v2AuthOptions(config),
    grantsPaused: (unit) => grantPauses.cache.isPaused(unit)
  })
  await fastify.register(healthRoutes)
  await fastify.register(metricsPlugin, { token: config.METRICS_TOKEN, refreshMs: config.METRICS_REFRESH_MS })
  if (config.ADMIN_TOKEN) {
    const firstSecret = config.FP_WEBHOOK_SECRET.split(',')[0]!.trim()
    await fastify.register(adminRoutes, { prefix: '/admin', token: config.ADMIN_TOKEN, webhookUrl: `${WEBHOOK_PREFIX}/${firstSecret}`, reconcileConfigured: config.FP_API_KEY !== undefined || (config.FP_API_V2_KEY !== undefined && config.FP_ACCOUNT_ID !== undefined) })
  }
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}

/** Not encapsulated, so that a server embedding it sees `db` and `queue`. */
export const app = fp(api, { name: 'fp-webhooks-api', fastify: '5.x' })

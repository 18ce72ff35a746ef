import { closeGracefully } from '@fp-webhooks/config'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { maskedUrl } from 'fastify-firstpromoter'
import { app, type AppOptions } from './app.js'
import type { ApiConfig } from './config.js'

const WEBHOOK_PREFIX = '/webhooks/firstpromoter'

/**
 * Logger settings for the api: JSON to stdout, and no secret in any line. The webhook route masks
 * its own URL; this covers every other line (404s, other methods on the webhook path, our secrets
 * on a mistyped path or in a query string) and headers.
 */
export function loggerOptions (config: Pick<ApiConfig, 'LOG_LEVEL'> & Partial<Pick<ApiConfig, 'FP_WEBHOOK_SECRET'>>, stream?: NodeJS.WritableStream) {
  const secrets = (config.FP_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  return {
    level: config.LOG_LEVEL,
    ...(stream ? { stream } : {}),
    name: 'api',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'], censor: '[REDACTED]' },
    serializers: {
      req: (req: { method: string, url: string, ip?: string }) => ({ method: req.method, url: maskedUrl(req.url, WEBHOOK_PREFIX, secrets), remoteAddress: req.ip })
    }
  }
}

/**
 * Builds the Fastify instance with the app registered (not listening).
 * @param logStream where log lines go (stdout by default; tests capture them)
 */
export async function buildServer (options: AppOptions, { logStream, ...fastifyOptions }: FastifyServerOptions & { logStream?: NodeJS.WritableStream } = {}) {
  const server = Fastify({
    logger: loggerOptions(options.config, logStream),
    // Behind a proxy the client address is in X-Forwarded-For.
    trustProxy: true,
    return503OnClosing: true,
    ...fastifyOptions
  })
  await server.register(app, options)
  // Fastify's own 404 repeats the URL in its answer and log line: a mistyped webhook URL would
  // echo our secret back to FirstPromoter, which keeps the answer in its delivery log.
  server.setNotFoundHandler((_req, reply) => {
    reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'Not Found' })
  })
  return server
}

/**
 * Listens on PORT and closes gracefully, once, on SIGINT/SIGTERM (or when `pnpm start`, which
 * started it, has gone): stop accepting, let in-flight requests finish within
 * SHUTDOWN_TIMEOUT_MS, then close the pools.
 */
export async function startServer (options: AppOptions) {
  const server = await buildServer(options)
  const shutdown = closeGracefully({ name: 'api', timeoutMs: options.config.SHUTDOWN_TIMEOUT_MS, log: server.log, close: () => server.close() })
  await server.listen({ port: options.config.PORT, host: options.config.HOST })
  shutdown.ready()
  return server
}

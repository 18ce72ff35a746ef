import { closeGracefully } from '@fp-webhooks/config'
import Fastify, { type FastifyServerOptions } from 'fastify'
import { firstPromoterServerOptions, maskedUrl, normalizeV2Auth, v2CredentialValues } from 'fastify-firstpromoter'
import { app, type AppOptions } from './app.js'
import { errorReply } from './error-reply.js'
import { NOT_FOUND } from './errors.js'
import { parseTrustProxy, v2AuthOptions, type ApiConfig } from './config.js'
import { createSecretScrubber, urlPassword } from './log-secrets.js'

const WEBHOOK_PREFIX = '/webhooks/firstpromoter'

type LoggedSecrets = 'FP_WEBHOOK_SECRET' | 'ADMIN_TOKEN' | 'METRICS_TOKEN' | 'FP_API_KEY' | 'FP_API_V2_KEY' | 'DATABASE_URL' | 'REDIS_URL' |
  'FP_V2_AUTH_HEADER' | 'FP_V2_AUTH_VALUES' | 'FP_V2_BASIC_AUTH' | 'FP_V2_SIGNING_SECRETS'

/**
 * Logger settings for the api: JSON to stdout, and no secret in any line. The webhook route masks
 * its own URL; the request serializer masks the secret segment of the webhook path; and every
 * line, whatever field carries it (a token in a query string, a mistyped path, an error text), has
 * each configured secret masked before it is written.
 */
export function loggerOptions (config: Pick<ApiConfig, 'LOG_LEVEL'> & Partial<Pick<ApiConfig, LoggedSecrets>>, stream?: NodeJS.WritableStream) {
  const secrets = (config.FP_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const scrub = createSecretScrubber([
    ...secrets,
    config.ADMIN_TOKEN,
    config.METRICS_TOKEN,
    config.FP_API_KEY,
    config.FP_API_V2_KEY,
    urlPassword(config.DATABASE_URL),
    urlPassword(config.REDIS_URL),
    // v2 header values (and their tokens), Basic passwords (and their base64 headers), signing secrets.
    ...v2CredentialValues(normalizeV2Auth(v2AuthOptions(config)))
  ])
  return {
    level: config.LOG_LEVEL,
    ...(stream ? { stream } : {}),
    name: 'api',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'], censor: '[REDACTED]' },
    serializers: {
      req: (req: { method: string, url: string, ip?: string }) => ({
        method: req.method,
        url: maskedUrl(req.url, WEBHOOK_PREFIX, secrets),
        remoteAddress: req.ip
      })
    },
    hooks: { streamWrite: scrub }
  }
}

/**
 * Builds the Fastify instance with the app registered (not listening).
 * @param logStream where log lines go (stdout by default; tests capture them)
 */
export async function buildServer (
  options: AppOptions,
  { logStream, ...fastifyOptions }: FastifyServerOptions & { logStream?: NodeJS.WritableStream } = {}
) {
  const { config } = options
  const server = Fastify({
    logger: loggerOptions(config, logStream),
    // Router errors answered without the URL (it holds the secret), client errors logged without
    // the raw request, and timeouts that cut off slow clients.
    ...firstPromoterServerOptions({
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: config.CONNECTION_TIMEOUT_MS,
      keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS
    }),
    // Off unless TRUST_PROXY names the proxies: a trusted X-Forwarded-For sets `req.ip`, which keys
    // the admin rate limits, so trusting any sender would let a client pick a fresh address per request.
    trustProxy: parseTrustProxy(config.TRUST_PROXY),
    return503OnClosing: true,
    ...fastifyOptions
  })
  await server.register(app, options)
  // Fastify's own 404 repeats the URL in its answer and log line: a mistyped webhook URL would
  // echo our secret back to FirstPromoter, which keeps the answer in its delivery log.
  server.setNotFoundHandler((_req, reply) => {
    reply.code(404).send(errorReply(new NOT_FOUND()))
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

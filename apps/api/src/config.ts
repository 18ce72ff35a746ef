import { CommonEnv, ConfigError, loadEnv } from '@fp-webhooks/config'
import proxyAddr from '@fastify/proxy-addr'
import { Type, type Static } from '@sinclair/typebox'
import { normalizeSecrets, normalizeV2Auth, type V2AuthOptions } from 'fastify-firstpromoter'
import { DefinitionEnv } from '@fp-webhooks/worker'

export const ApiEnvSchema = Type.Object({
  ...CommonEnv,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  FP_WEBHOOK_SECRET: Type.String({ minLength: 1 }),
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  FP_FULFILMENT_WAIT_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 2000 }),
  FP_BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  FP_PERSONAL_DATA: Type.Union([Type.Literal('keep'), Type.Literal('drop')], { default: 'keep' }),
  FP_REDACT_PATHS: Type.String({ default: '' }),
  FP_ACCEPT_V2: Type.Boolean({ default: true }),
  // Group commit of the inbox (docs/ingest.md): most rows per statement, and how long a row may wait
  // for others when no statement is in flight (0: a lone delivery is written at once).
  FP_INGEST_BATCH_ROWS: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }),
  FP_INGEST_BATCH_WAIT_MS: Type.Integer({ minimum: 0, maximum: 100, default: 0 }),
  // v2 credentials on top of the URL secret (README "FirstPromoter v2"); each comma-separated for rotation.
  FP_V2_AUTH_HEADER: Type.Optional(Type.String({ minLength: 1 })),
  FP_V2_AUTH_VALUES: Type.Optional(Type.String({ minLength: 1 })),
  FP_V2_BASIC_AUTH: Type.Optional(Type.String({ minLength: 1 })),
  FP_V2_SIGNING_SECRETS: Type.Optional(Type.String({ minLength: 1 })),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  // Well under FirstPromoter's 15 s answer window: a slow or stalled client is cut off.
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
  TRUST_PROXY: Type.String({ default: 'false' }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  METRICS_REFRESH_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  // The definition module (grants and handlers), validated at start and run by an in-process worker.
  ...DefinitionEnv,
  // Runs the worker inside this process too (its variables are the worker's); closed with the server.
  WORKER_IN_PROCESS: Type.Boolean({ default: false })
})
export type ApiConfig = Static<typeof ApiEnvSchema>

/** Fastify's `trustProxy`: every proxy, none, or the proxies at these addresses/CIDRs (comma-separated). */
export type TrustProxy = boolean | string

/**
 * Reads `TRUST_PROXY` into Fastify's `trustProxy`. A bare hop count is refused: Fastify ignores
 * it (it cannot tell a proxy from a client that sent the header itself), so it would silently
 * trust nothing.
 * @throws ConfigError naming TRUST_PROXY
 */
export function parseTrustProxy (value: string): TrustProxy {
  const v = value.trim().toLowerCase()
  if (v === 'true' || v === 'false') return v === 'true'
  const refuse = (why: string) => new ConfigError([`TRUST_PROXY ${why}; use true, false, or the proxies' addresses/CIDRs, comma-separated (e.g. 10.0.0.0/8,::1)`])
  if (/^\d+$/.test(v)) throw refuse('does not take a hop count (Fastify ignores one: it cannot tell a proxy from a client)')
  const entries = v.split(',').map((e) => e.trim())
  try {
    proxyAddr.compile(entries)
  } catch (err) {
    throw refuse(`is invalid: ${(err as Error).message}`)
  }
  return entries.join(',')
}

const V2_AUTH_ENV = {
  v2AuthHeader: 'FP_V2_AUTH_HEADER',
  v2AuthValues: 'FP_V2_AUTH_VALUES',
  v2BasicAuth: 'FP_V2_BASIC_AUTH',
  v2SigningSecrets: 'FP_V2_SIGNING_SECRETS'
} as const satisfies Record<keyof V2AuthOptions, keyof ApiConfig>

/** The plugin's v2 credential options, from their variables. */
export function v2AuthOptions (
  config: Partial<Pick<ApiConfig, (typeof V2_AUTH_ENV)[keyof V2AuthOptions]>>
): V2AuthOptions {
  return Object.fromEntries(Object.entries(V2_AUTH_ENV).map(([option, name]) => [option, config[name]]))
}

/** The v2 credential variables by the plugin's rules; the problem names the variable, never a value. */
function checkV2Auth (config: ApiConfig): void {
  let configured: boolean
  try {
    configured = Object.values(normalizeV2Auth(v2AuthOptions(config))).some((part) => part !== null)
  } catch (err) {
    const problem = (err as Error).message.replace(/^.*option: /, '')
    throw new ConfigError([
      Object.entries(V2_AUTH_ENV).reduce((text, [option, name]) => text.replaceAll(option, name), problem)
    ])
  }
  if (configured && !config.FP_ACCEPT_V2) throw new ConfigError(['FP_V2_AUTH_HEADER, FP_V2_BASIC_AUTH and FP_V2_SIGNING_SECRETS need FP_ACCEPT_V2=true'])
}

/**
 * Parses the api's environment once, the webhook secrets included (by the plugin's own rules), so
 * that a bad variable stops the api before it touches Postgres or Redis.
 * @throws ConfigError naming each bad or missing variable
 */
export function loadApiConfig (env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const config = loadEnv(ApiEnvSchema, env)
  try {
    normalizeSecrets(config.FP_WEBHOOK_SECRET)
  } catch (err) {
    throw new ConfigError([`FP_WEBHOOK_SECRET: ${(err as Error).message.replace(/^.*option: /, '')}`])
  }
  checkV2Auth(config)
  parseTrustProxy(config.TRUST_PROXY)
  // The socket idle timeout also runs while a fulfilment waits for its grant, sending nothing.
  if (config.CONNECTION_TIMEOUT_MS <= config.FP_FULFILMENT_WAIT_MS + 1000) {
    throw new ConfigError([`CONNECTION_TIMEOUT_MS (${config.CONNECTION_TIMEOUT_MS}) must exceed FP_FULFILMENT_WAIT_MS (${config.FP_FULFILMENT_WAIT_MS}) by more than 1000 ms, or fulfilment answers are cut off`])
  }
  return config
}

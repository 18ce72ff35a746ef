import { CommonEnv, ConfigError, loadEnv } from '@fp-webhooks/config'
import { Type, type Static } from '@sinclair/typebox'
import { normalizeSecrets } from 'fastify-firstpromoter'

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
  FP_ACCEPT_V2: Type.Boolean({ default: false }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 })
})
export type ApiConfig = Static<typeof ApiEnvSchema>

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
  return config
}

import { CommonEnv, ConfigError, loadEnv } from '@fp-webhooks/config'
import { Type, type Static } from '@sinclair/typebox'

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
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  // Well under FirstPromoter's 15 s answer window: a slow or stalled client is cut off.
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 })
})
export type ApiConfig = Static<typeof ApiEnvSchema>

/** Parses the api's environment once. @throws ConfigError naming each bad or missing variable */
export function loadApiConfig (env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const config = loadEnv(ApiEnvSchema, env)
  // The socket idle timeout also runs while a fulfilment waits for its grant, sending nothing.
  if (config.CONNECTION_TIMEOUT_MS <= config.FP_FULFILMENT_WAIT_MS + 1000) {
    throw new ConfigError([`CONNECTION_TIMEOUT_MS (${config.CONNECTION_TIMEOUT_MS}) must exceed FP_FULFILMENT_WAIT_MS (${config.FP_FULFILMENT_WAIT_MS}) by more than 1000 ms, or fulfilment answers are cut off`])
  }
  return config
}

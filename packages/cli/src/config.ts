import { CommonEnv, loadEnv } from '@fp-webhooks/config'
import { Type, type Static } from '@sinclair/typebox'

/** The variables the commands read: the apps' names and defaults (root README "Environment"). */
export const CliEnvSchema = Type.Object({
  DATABASE_URL: CommonEnv.DATABASE_URL,
  REDIS_URL: CommonEnv.REDIS_URL,
  QUEUE_PREFIX: CommonEnv.QUEUE_PREFIX,
  LOG_LEVEL: CommonEnv.LOG_LEVEL,
  FP_API_KEY: CommonEnv.FP_API_KEY,
  FP_API_URL: CommonEnv.FP_API_URL,
  FP_API_V2_KEY: CommonEnv.FP_API_V2_KEY,
  FP_ACCOUNT_ID: CommonEnv.FP_ACCOUNT_ID,
  FP_API_V2_URL: CommonEnv.FP_API_V2_URL,
  // Shared with the workers' budget (same Redis key), so a manual reconcile cannot push them over.
  FP_API_RATE_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 400, default: 300 })
})
export type CliConfig = Static<typeof CliEnvSchema>

/** Parses the environment once. @throws ConfigError naming each bad variable */
export function loadCliConfig (env: NodeJS.ProcessEnv = process.env): CliConfig {
  return loadEnv(CliEnvSchema, env)
}

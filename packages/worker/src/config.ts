import { CommonEnv, loadEnv } from '@fp-webhooks/config'
import { Type, type Static } from '@sinclair/typebox'
import { DefinitionEnv } from './modules.js'

export const WorkerEnvSchema = Type.Object({
  ...CommonEnv,
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
  FP_LEDGER_UNITS: Type.String({ default: 'free_months,credits,points' }),
  ...DefinitionEnv,
  SWEEP_INTERVAL_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  SWEEP_STALE_AFTER_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  GRANT_RETRY_DELAY_MS: Type.Integer({ minimum: 1, default: 1000 }),
  GRANT_RETRY_MAX_DELAY_MS: Type.Integer({ minimum: 1, default: 3_600_000 }),
  GRANT_PAUSE_RECHECK_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  RECONCILE_INTERVAL_MS: Type.Integer({ minimum: 0, default: 3_600_000 }),
  // Ids per POST /commissions/mark_fulfilled; above 5 FirstPromoter answers 202 and a batch to follow.
  FP_V2_CLOSE_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 100, default: 100 }),
  FP_API_RATE_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 400, default: 300 }),
  // The outbox relay (docs/ingest.md): rows per claim, and the poll when no notice comes (0: notices only).
  RELAY_BATCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
  RELAY_POLL_MS: Type.Integer({ minimum: 0, default: 1000 }),
  LOCK_DURATION_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  // Running jobs finish within this on SIGTERM; past it the process exits and they are taken over as stalled.
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 })
})
export type WorkerConfig = Static<typeof WorkerEnvSchema>

/** Parses the worker's environment once. @throws ConfigError naming each bad variable */
export function loadWorkerConfig (env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadEnv(WorkerEnvSchema, env)
}

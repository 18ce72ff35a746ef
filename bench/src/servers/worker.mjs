// The real worker (createWorker from @fp-webhooks/worker) with the built-in ledger grant, as the
// runnable worker builds it: a pool of concurrency + 4 connections, grants and events at
// WORKER_CONCURRENCY (default 8) each. Periodic sweep and reconciliation are off.
// Env: DATABASE_URL, REDIS_URL, QUEUE_PREFIX, WORKER_CONCURRENCY, LOG_LEVEL (default warn).
import { createDb } from '@fp-webhooks/db'
import { createWorker } from '@fp-webhooks/worker'
import { env, onStop, ready, stderrLogger } from './common.mjs'

const concurrency = Number(env('WORKER_CONCURRENCY', '8'))
const { db, close: closeDb } = createDb(env('DATABASE_URL'), { max: concurrency + 4, applicationName: 'bench-worker' })
const worker = await createWorker({
  db,
  redisUrl: env('REDIS_URL'),
  prefix: env('QUEUE_PREFIX'),
  logger: stderrLogger(env('LOG_LEVEL', 'warn')),
  // The burst case points these at the fake FirstPromoter API, for the closes of answered-202s.
  ...(process.env.FP_API_KEY && process.env.FP_API_URL
    ? { api: { v1: { apiKey: process.env.FP_API_KEY, baseUrl: process.env.FP_API_URL } } }
    : {}),
  sweepIntervalMs: 0,
  reconcileIntervalMs: 0,
  concurrency: { grants: concurrency, events: concurrency }
})
onStop(async () => {
  await worker.close()
  await closeDb()
})
ready()

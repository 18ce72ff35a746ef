// Baseline: a plain BullMQ worker on the same grants queue and backlog, whose job is one insert
// transaction (`begin; insert …; commit`). Same concurrency and pool size as the real worker.
// Env: DATABASE_URL, REDIS_URL, QUEUE_PREFIX, WORKER_CONCURRENCY.
import { Worker } from 'bullmq'
import { GRANTS_QUEUE } from '@fp-webhooks/queue'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { env, onStop, ready } from './common.mjs'

const concurrency = Number(env('WORKER_CONCURRENCY', '8'))
const sql = postgres(env('DATABASE_URL'), { max: concurrency + 4, onnotice: () => {}, connection: { application_name: 'bench-baseline-worker' } })
const connection = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null })
const worker = new Worker(GRANTS_QUEUE, async (job) => {
  await sql.begin(async (tx) => {
    await tx`insert into bench_grants (fulfilment_id, amount) values (${job.data.fulfilmentId}, 1) on conflict (fulfilment_id) do nothing`
  })
}, { connection, prefix: env('QUEUE_PREFIX'), concurrency, lockDuration: 30_000, stalledInterval: 30_000 })
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`))
await worker.waitUntilReady()
onStop(async () => {
  await worker.close()
  await connection.quit().catch(() => connection.disconnect())
  await sql.end({ timeout: 5 })
})
ready()

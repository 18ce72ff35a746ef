// The real api (buildServer from @fp-webhooks/api) on the bench's database and Redis prefix.
// Env: DATABASE_URL, REDIS_URL, QUEUE_PREFIX, FP_WEBHOOK_SECRET, LOG_LEVEL (default warn),
// FP_FULFILMENT_WAIT_MS (default: the product's 2000).
import { buildServer, loadApiConfig } from '@fp-webhooks/api'
import { env, onStop, ready } from './common.mjs'

const config = loadApiConfig({
  DATABASE_URL: env('DATABASE_URL'),
  REDIS_URL: env('REDIS_URL'),
  QUEUE_PREFIX: env('QUEUE_PREFIX'),
  FP_WEBHOOK_SECRET: env('FP_WEBHOOK_SECRET'),
  LOG_LEVEL: env('LOG_LEVEL', 'warn'),
  HOST: '127.0.0.1',
  PORT: '0',
  ...(process.env.FP_FULFILMENT_WAIT_MS ? { FP_FULFILMENT_WAIT_MS: process.env.FP_FULFILMENT_WAIT_MS } : {})
})
const server = await buildServer({ config }, { logStream: process.stderr })
await server.listen({ host: '127.0.0.1', port: 0 })
onStop(() => server.close())
ready({ port: server.server.address().port })

import { createDb } from '@fp-webhooks/db'
import { captureLogs, createRedisPrefix, createTestDatabase, fixture, sleep, startWorker as startTestWorker, TEST_REDIS_URL, waitFor } from '@fp-webhooks/testing'
import { createWorker, loadWorkerConfig, type CreateWorkerOptions, type FirstPromoterDefinition } from '@fp-webhooks/worker'
import { buildServer } from '../src/server.js'
import { loadApiConfig, type ApiConfig } from '../src/config.js'

export const SECRET = 'test-secret-0123456789abcdef'
export const OLD_SECRET = 'old-secret-abcdef0123456789'
export const WEBHOOK = `/webhooks/firstpromoter/${SECRET}`

interface T {
  teardown: (fn: () => unknown) => void
}

export { fixture }

let nextId = 900_000_000 + Math.floor(Math.random() * 1_000_000) * 10
/** A unique id, so that deliveries of one test never dedupe against another's. */
export const uniqueId = () => ++nextId

/** A fulfilment_pending delivery with fresh event and fulfilment ids. */
export function fulfilmentPayload (overrides: { id?: number, unit?: string, amount?: number, custId?: string } = {}) {
  const body = fixture('fulfilment_pending.json')
  body.event.id = uniqueId()
  body.data.id = overrides.id ?? uniqueId()
  if (overrides.unit) body.data.unit = overrides.unit
  if (overrides.amount !== undefined) body.data.amount = overrides.amount
  if (overrides.custId !== undefined) body.data.promoter.cust_id = overrides.custId
  return body
}

export interface BuildOptions {
  env?: Record<string, string>
  /**
   * The api's own DATABASE_URL from the test database's (e.g. through a TCP proxy);
   * the worker and assertions use the database directly.
   */
  apiDatabaseUrl?: (url: string) => string
  /** The api's own REDIS_URL (e.g. through a TCP proxy); the worker's stays direct. */
  apiRedisUrl?: (url: string) => string
  /** The definition module's export, as the api would load it from FP_DEFINITION_MODULE. */
  definition?: FirstPromoterDefinition
  /** Runs the worker in the api's process (WORKER_IN_PROCESS=true) with these extra worker variables. */
  inProcessWorker?: Record<string, string>
}

/**
 * The api app on its own database and Redis prefix, with every log line captured.
 * @returns the server (use `inject`), its config, a Drizzle handle for assertions and the logs
 */
export async function build (t: T, options: BuildOptions = {}) {
  const { url } = await createTestDatabase(t)
  const prefix = createRedisPrefix(t)
  const config: ApiConfig = loadApiConfig({
    DATABASE_URL: options.apiDatabaseUrl?.(url) ?? url,
    REDIS_URL: options.apiRedisUrl?.(TEST_REDIS_URL) ?? TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    FP_WEBHOOK_SECRET: `${SECRET},${OLD_SECRET}`,
    FP_FULFILMENT_WAIT_MS: '1500',
    LOG_LEVEL: 'info',
    ...options.env
  })
  const logs = captureLogs()
  const worker = options.inProcessWorker
    ? loadWorkerConfig({ DATABASE_URL: url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, SWEEP_INTERVAL_MS: '0', RECONCILE_INTERVAL_MS: '0', ...options.inProcessWorker })
    : undefined
  const server = await buildServer({ config, definition: options.definition, worker }, { logStream: logs.stream })
  await server.ready()
  const check = createDb(url, { max: 2 })
  t.teardown(async () => {
    await server.close()
    await check.close()
  })
  // Rows as `any`: assertions read columns straight off raw SQL results.
  const sql = check.sql as unknown as (strings: TemplateStringsArray, ...values: unknown[]) => Promise<any[]>
  return { server, config, db: check.db, sql, logs, dbUrl: url, prefix }
}

/** A worker on the same database and queues as `app`. */
export const startWorker = (t: T, app: { dbUrl: string, prefix: string }, options: Partial<CreateWorkerOptions> = {}) =>
  startTestWorker(t, createWorker, app, options)

export function post (
  server: { inject: Function },
  body: unknown,
  options: { url?: string, headers?: Record<string, string> } = {}
) {
  return server.inject({
    method: 'POST',
    url: options.url ?? WEBHOOK,
    headers: { 'content-type': 'application/json', ...options.headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body)
  }) as Promise<{ statusCode: number, json: () => any, body: string, headers: Record<string, string> }>
}

export { sleep, waitFor }

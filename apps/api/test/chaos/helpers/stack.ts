import { buildServer, loadApiConfig, type ApiConfig } from '../../../src/index.js'
import { createDb, type Db } from '@fp-webhooks/db'
import { captureLogs, createRedisPrefix, createTestDatabase, sleep, startWorker as startTestWorker, TEST_PG_URL, TEST_REDIS_URL, waitFor } from '@fp-webhooks/testing'
import { createWorker, type CreateWorkerOptions, type FulfilmentWorker } from '@fp-webhooks/worker'

export { TEST_PG_URL, TEST_REDIS_URL }

interface Teardown { teardown: (fn: () => unknown) => void }

/** Our webhook secrets: the current one and the previous one (a rotation in progress). */
export const SECRET = 'chaos-secret-0123456789abcdefABCD'
export const OLD_SECRET = 'chaos-old-secret-fedcba9876543210'
export const ADMIN_TOKEN = 'chaos-admin-token-0123456789abcdef'
export const WEBHOOK_PREFIX = '/webhooks/firstpromoter'
export const WEBHOOK = `${WEBHOOK_PREFIX}/${SECRET}`

/** Rows of raw SQL, loosely typed: assertions read columns straight off them. */
export type Row = Record<string, any>
export type Sql = ((strings: TemplateStringsArray, ...values: unknown[]) => Promise<Row[]>) & {
  unsafe: (query: string) => Promise<Row[]>
}

export interface ChaosEnv {
  /** The test's own database (real Postgres, never through a proxy). */
  dbUrl: string
  /** The test's own BullMQ prefix on the real Redis. */
  prefix: string
  /** A small pool on the real database, for assertions. */
  sql: Sql
  db: Db
}

export { sleep, waitFor }

/** The test's own database (cloned from the migrated template) and Redis prefix, dropped at teardown. */
export async function createEnv (t: Teardown): Promise<ChaosEnv> {
  const { url } = await createTestDatabase(t)
  const prefix = createRedisPrefix(t)
  const handle = createDb(url, { max: 4, applicationName: 'chaos-assertions' })
  t.teardown(() => handle.close())
  return { dbUrl: url, prefix, sql: handle.sql as unknown as Sql, db: handle.db }
}

export interface ApiOptions {
  /** Default: the env's database (give a proxied URL to cut it). */
  databaseUrl?: string
  /** Default: the real Redis (give a proxied URL to cut it). */
  redisUrl?: string
  env?: Record<string, string>
  /** Listen on 127.0.0.1:0 as well (for real sockets). */
  listen?: boolean
}

/**
 * The api exactly as it runs (`buildServer`), on the scenario's database and prefix, every log line
 * captured. Closed at teardown.
 */
export async function startApi (t: Teardown, env: ChaosEnv, options: ApiOptions = {}) {
  const config: ApiConfig = loadApiConfig({
    DATABASE_URL: options.databaseUrl ?? env.dbUrl,
    REDIS_URL: options.redisUrl ?? TEST_REDIS_URL,
    QUEUE_PREFIX: env.prefix,
    FP_WEBHOOK_SECRET: `${SECRET},${OLD_SECRET}`,
    FP_FULFILMENT_WAIT_MS: '1000',
    LOG_LEVEL: 'info',
    ...options.env
  })
  const logs = captureLogs()
  const server = await buildServer({ config }, { logStream: logs.stream })
  t.teardown(async () => { await server.close().catch(() => {}) })
  await server.ready()
  let baseUrl = ''
  if (options.listen) {
    baseUrl = await server.listen({ port: 0, host: '127.0.0.1' })
  }
  return { server, config, logs, baseUrl }
}
export type Api = Awaited<ReturnType<typeof startApi>>

/**
 * An in-process worker on the real database and Redis (its own pool), no schedules: the sweeper
 * runs when the test calls it. Closed at teardown.
 */
export const startWorker = (
  t: Teardown,
  env: ChaosEnv,
  options: Partial<CreateWorkerOptions> = {}
): Promise<FulfilmentWorker> =>
  startTestWorker(t, createWorker, env, options, { max: 10, applicationName: 'chaos-worker' })

export interface Answer { statusCode: number, body: string }

/** POSTs a delivery through `inject` (no socket). */
export async function inject (
  api: Api,
  body: unknown,
  options: { url?: string, headers?: Record<string, string> } = {}
): Promise<Answer> {
  const res = await api.server.inject({
    method: 'POST',
    url: options.url ?? WEBHOOK,
    headers: { 'content-type': 'application/json', ...options.headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
  })
  return { statusCode: res.statusCode, body: res.body }
}

/** POSTs a delivery over a real socket (the api must listen). */
export async function send (
  api: Api,
  body: unknown,
  options: { path?: string, headers?: Record<string, string> } = {}
): Promise<Answer> {
  const res = await fetch(api.baseUrl + (options.path ?? WEBHOOK), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000)
  })
  return { statusCode: res.status, body: await res.text() }
}

/** `n` of each status code, e.g. `{ 200: 12, 202: 3 }`. */
export function tally (answers: ReadonlyArray<{ statusCode: number }>): Record<number, number> {
  const out: Record<number, number> = {}
  for (const a of answers) out[a.statusCode] = (out[a.statusCode] ?? 0) + 1
  return out
}

export const is2xx = (status: number) => status >= 200 && status < 300
export const is5xx = (status: number) => status >= 500

import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { createDb } from '@fp-webhooks/db'
import { captureLogs, createRedisPrefix, createTestDatabase, sleep, startWorker as startTestWorker, TEST_REDIS_URL, waitFor } from '@fp-webhooks/testing'
import { createWorker, type CreateWorkerOptions, type FulfilmentWorker } from '@fp-webhooks/worker'
import { loadApiConfig } from '../../src/config.js'
import { buildServer } from '../../src/server.js'

export { TEST_REDIS_URL }

export const SECRET = 'cli-test-secret-0123456789abcdef'
/** The CLI package's built bin (`firstpromoter-webhooks`), run as a child process. */
export const BIN = join(dirname(createRequire(import.meta.url).resolve('@fp-webhooks/cli/package.json')), 'dist', 'bin.js')

interface T {
  teardown: (fn: () => unknown) => void
}

export { sleep, waitFor }

export interface TestContext {
  dbUrl: string
  prefix: string
  /** Raw SQL on the test's database; rows as `any` for assertions. */
  sql: (strings: TemplateStringsArray, ...values: unknown[]) => Promise<any[]>
}

/** The test's own migrated database and Redis prefix (both removed at teardown), and a small pool. */
export async function setup (t: T): Promise<TestContext> {
  const { url } = await createTestDatabase(t)
  const prefix = createRedisPrefix(t)
  const handle = createDb(url, { max: 2, applicationName: 'cli-test' })
  // Teardowns run last-in first-out: servers and workers registered later close first.
  t.teardown(() => handle.close())
  const sql = handle.sql as unknown as TestContext['sql']
  return { dbUrl: url, prefix, sql }
}

/**
 * The real api, listening on a free port of 127.0.0.1, on the test's database and prefix.
 * @returns the webhook URL (secret included) and the server
 */
export async function startApi (t: T, ctx: TestContext, env: Record<string, string> = {}) {
  const config = loadApiConfig({
    DATABASE_URL: ctx.dbUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: ctx.prefix,
    FP_WEBHOOK_SECRET: SECRET,
    FP_FULFILMENT_WAIT_MS: '200',
    LOG_LEVEL: 'warn',
    ...env
  })
  const logs = captureLogs()
  const server = await buildServer({ config }, { logStream: logs.stream })
  t.teardown(() => server.close())
  await server.listen({ port: 0, host: '127.0.0.1' })
  const { port } = server.server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`
  return { server, base, url: `${base}/webhooks/firstpromoter/${SECRET}`, logs }
}

/** A worker on the test's database and queues (no schedules), closed at teardown. */
export const startWorker = (
  t: T,
  ctx: TestContext,
  options: Partial<CreateWorkerOptions> = {}
): Promise<FulfilmentWorker> =>
  startTestWorker(t, createWorker, ctx, options, { max: 4, applicationName: 'cli-test-worker' })

/**
 * An HTTP server that reads each request and never answers, as a hung receiver would.
 * @returns its URL and how many requests reached it
 */
export async function startSilentServer (t: T) {
  let received = 0
  const server = createServer((req: IncomingMessage, _res: ServerResponse) => {
    received++
    req.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/webhooks/firstpromoter/${SECRET}`, received: () => received }
}

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the built CLI (`node dist/bin.js …`) with only the given variables (and PATH), so the
 * caller's shell cannot leak FP_API_KEY or DATABASE_URL into a test. Asynchronous: the fake
 * FirstPromoter API and the api under test run in this process and must keep answering.
 */
export function runCli (args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

/** The environment pointing the CLI at the test's database and prefix. */
export const cliEnv = (ctx: TestContext, extra: Record<string, string> = {}) => ({
  DATABASE_URL: ctx.dbUrl,
  REDIS_URL: TEST_REDIS_URL,
  QUEUE_PREFIX: ctx.prefix,
  ...extra
})

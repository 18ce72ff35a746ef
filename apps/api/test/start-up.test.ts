// The order of the start-up checks: every variable first (nothing touched yet), then Postgres and
// its schema, then Redis. A process that cannot serve says so in one line and exits non-zero.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createDb } from '@fp-webhooks/db'
import { TEST_PG_URL, TEST_REDIS_URL, closedPort, createRedisPrefix, createTestDatabase, runBin } from '@fp-webhooks/testing'
import { SECRET } from './helper.js'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

/** Runs the api bin until it exits, or kills it after `ms` (then `code` is 'still running'). */
const runApi = (env: Record<string, string>, ms?: number) =>
  runBin(BIN, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: TEST_REDIS_URL, ...env }, ms)

t.test('an unmigrated database: one line naming the command to run, exit 1, never listening', async (t) => {
  const { url } = await createTestDatabase(t, { migrated: false })
  const run = await runApi({ DATABASE_URL: url, FP_WEBHOOK_SECRET: SECRET, QUEUE_PREFIX: createRedisPrefix(t) })
  t.equal(run.code, 1, `exits 1 (stdout: ${run.stdout.slice(0, 300)})`)
  t.equal(run.lines.length, 1, `one line on stderr: ${run.stderr}`)
  t.match(run.lines[0], /^api: .*not migrated.*pnpm migrate/, 'says the schema is missing and which command to run')
  t.notMatch(run.stdout, /Server listening/, 'never listened')
})

t.test('a database that does not exist: the same line, and the api does not create it', async (t) => {
  const name = `fpw_absent_${randomBytes(5).toString('hex')}`
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  const { sql: admin, close } = createDb(TEST_PG_URL, { max: 1 })
  t.teardown(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await close()
  })
  const run = await runApi({
    DATABASE_URL: url.toString(),
    FP_WEBHOOK_SECRET: SECRET,
    QUEUE_PREFIX: createRedisPrefix(t)
  })
  t.equal(run.code, 1)
  t.equal(run.lines.length, 1, run.stderr)
  t.match(run.lines[0], /^api: .*does not exist.*pnpm migrate/)
  t.equal((await admin`select 1 from pg_database where datname = ${name}`).length, 0, 'no database created')
})

t.test('a bad variable is reported before any service is contacted', async (t) => {
  const port = await closedPort()
  const unreachable = `postgres://postgres@127.0.0.1:${port}/firstpromoter`
  const cases = [
    ['missing secret', {}, /FP_WEBHOOK_SECRET is required/],
    ['secret too short', { FP_WEBHOOK_SECRET: 'short' }, /FP_WEBHOOK_SECRET.*at least 16 characters/],
    ['secret with a character that cannot be in a URL', { FP_WEBHOOK_SECRET: 'abcdefghijklmnop/q' }, /FP_WEBHOOK_SECRET.*URL-safe/]
  ] as const
  const runs = await Promise.all(cases.map(([, env]) => runApi({ DATABASE_URL: unreachable, FP_WEBHOOK_SECRET: '', ...env })))
  cases.forEach(([what, , expected], i) => {
    const run = runs[i]!
    t.equal(run.code, 1, `${what}: exits 1`)
    t.equal(run.lines.length, 1, `${what}: one line (${run.stderr})`)
    t.match(run.lines[0], /^api: Invalid configuration: /, `${what}: names the configuration`)
    t.match(run.lines[0], expected, `${what}: names the variable`)
    t.notMatch(run.stderr, /Cannot reach/, `${what}: checked before Postgres`)
  })
})

t.test('the definition module the worker runs is loaded by the api too: a broken one stops it before any service is contacted', async (t) => {
  const port = await closedPort()
  const run = await runApi({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/firstpromoter`, FP_WEBHOOK_SECRET: SECRET, FP_DEFINITION_MODULE: './no/such/definition.mjs' })
  t.equal(run.code, 1, 'exits 1')
  t.equal(run.lines.length, 1, `one line (${run.stderr})`)
  t.match(run.lines[0], /^api: Invalid configuration: FP_DEFINITION_MODULE \.\/no\/such\/definition\.mjs cannot be loaded/)
  t.notMatch(run.stderr, /Cannot reach/, 'checked before Postgres')
})

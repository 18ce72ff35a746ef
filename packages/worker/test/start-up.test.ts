// The order of the start-up checks: every variable and module first (nothing touched yet), then
// Postgres and its schema, then Redis. A worker that cannot work says so in one line and exits 1.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { closedPort, createRedisPrefix, createTestDatabase, runBin } from '@fp-webhooks/testing'
import { TEST_REDIS_URL } from './helper.js'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

/** Runs the worker bin until it exits, or kills it after `ms` (then `code` is 'still running'). */
const runWorker = (env: Record<string, string>, ms?: number) =>
  runBin(BIN, { LOG_LEVEL: 'info', REDIS_URL: TEST_REDIS_URL, ...env }, ms)

t.test('an unmigrated database: one line naming the command to run, exit 1, no job taken', async (t) => {
  const { url } = await createTestDatabase(t, { migrated: false })
  const run = await runWorker({ DATABASE_URL: url, QUEUE_PREFIX: createRedisPrefix(t) })
  t.equal(run.code, 1, `exits 1 (stdout: ${run.stdout.slice(0, 300)})`)
  t.equal(run.lines.length, 1, `one line on stderr: ${run.stderr}`)
  t.match(run.lines[0], /^worker: .*not migrated.*pnpm migrate/, 'says the schema is missing and which command to run')
  t.notMatch(run.stdout, /worker ready/, 'never started')
})

t.test('bad variables and modules are reported before any service is contacted', async (t) => {
  const port = await closedPort()
  const unreachable = `postgres://postgres@127.0.0.1:${port}/firstpromoter`
  const cases = [
    ['bad number', { WORKER_CONCURRENCY: '0' }, /^worker: Invalid configuration: .*WORKER_CONCURRENCY/],
    ['grants module missing', { FP_GRANTS_MODULE: './no/such/grants.mjs' }, /^worker: .*FP_GRANTS_MODULE/]
  ] as const
  const runs = await Promise.all(cases.map(([, env]) => runWorker({ DATABASE_URL: unreachable, ...env })))
  cases.forEach(([what, , expected], i) => {
    const run = runs[i]!
    t.equal(run.code, 1, `${what}: exits 1`)
    t.equal(run.lines.length, 1, `${what}: one line (${run.stderr})`)
    t.match(run.lines[0], expected, `${what}: names the variable`)
    t.notMatch(run.stderr, /Cannot reach/, `${what}: checked before Postgres`)
  })
})

t.test('a definition module that cannot be used is reported before any service is contacted', async (t) => {
  const port = await closedPort()
  const unreachable = `postgres://postgres@127.0.0.1:${port}/firstpromoter`
  const cases = [
    ['definition module missing', { FP_DEFINITION_MODULE: './no/such/definition.mjs' }, /^worker: FP_DEFINITION_MODULE .*cannot be loaded/],
    ['not a definition', { FP_DEFINITION_MODULE: fileURLToPath(new URL('fixtures/definitions/not-a-definition.mjs', import.meta.url)) }, /^worker: FP_DEFINITION_MODULE .*must `export default defineFirstPromoter/],
    ['alias disagrees', { FP_DEFINITION_MODULE: './a.mjs', FP_HANDLERS_MODULE: './b.mjs' }, /^worker: Invalid configuration: FP_HANDLERS_MODULE is a deprecated alias/]
  ] as const
  // One at a time: each boots a node process, and the machine may be small.
  for (const [what, env, expected] of cases) {
    const run = await runWorker({ DATABASE_URL: unreachable, ...env })
    t.equal(run.code, 1, `${what}: exits 1`)
    t.equal(run.lines.length, 1, `${what}: one line (${run.stderr})`)
    t.match(run.lines[0], expected, `${what}: names the variable`)
    t.notMatch(run.stderr, /Cannot reach/, `${what}: checked before Postgres`)
  }
})

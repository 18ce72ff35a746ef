import { closedPort } from '@fp-webhooks/testing'
import { Type } from '@sinclair/typebox'
import t from 'tap'
import { CommonEnv, ConfigError, DependencyError, checkPostgres, checkRedis, loadEnv, redactUrl } from '../src/index.js'

const Schema = Type.Object({
  ...CommonEnv,
  REQUIRED_THING: Type.String({ minLength: 1 }),
  COUNT: Type.Integer({ minimum: 1, default: 8 }),
  FLAG: Type.Boolean({ default: false })
})

t.test('defaults and coercion', async (t) => {
  const env = loadEnv(Schema, { REQUIRED_THING: 'x', COUNT: '3', FLAG: 'true', LOG_LEVEL: '' })
  t.equal(env.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/firstpromoter')
  t.equal(env.REDIS_URL, 'redis://127.0.0.1:6379')
  t.equal(env.COUNT, 3)
  t.equal(env.FLAG, true)
  t.equal(env.LOG_LEVEL, 'info', 'an empty string counts as unset')
  const withEmptyKey = loadEnv(Schema, { REQUIRED_THING: 'x', FP_API_KEY: '' })
  t.equal(withEmptyKey.FP_API_KEY, undefined, 'an empty optional variable is unset, not an error')
})

t.test('every problem is named in one error', async (t) => {
  const err = t.throws(() => loadEnv(Schema, { COUNT: 'zero', DATABASE_URL: 'mysql://x' })) as ConfigError
  t.ok(err instanceof ConfigError)
  t.match(err.message, /REQUIRED_THING is required/)
  t.match(err.message, /COUNT/)
  t.match(err.message, /DATABASE_URL/)
})

t.test('redactUrl masks the password only', async (t) => {
  t.equal(redactUrl('postgres://app:hunter2@db:5432/x'), 'postgres://app:***@db:5432/x')
  t.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379')
  t.equal(redactUrl('::'), '(unparseable URL)')
})

t.test('start-up checks name the variable and hide the password', async (t) => {
  const port = await closedPort()
  const pg = await checkPostgres(`postgres://app:hunter2@127.0.0.1:${port}/x`, 2).then(() => null, (e: unknown) => e)
  t.ok(pg instanceof DependencyError)
  t.match((pg as Error).message, /^Cannot reach Postgres at DATABASE_URL=postgres:\/\/app:\*\*\*@127\.0\.0\.1/)
  t.notMatch((pg as Error).message, 'hunter2')
  const redis = await checkRedis(`redis://127.0.0.1:${port}`, 1000).then(() => null, (e: unknown) => e)
  t.ok(redis instanceof DependencyError)
  t.match((redis as Error).message, /^Cannot reach Redis at REDIS_URL=/)
  await t.resolves(checkPostgres('postgres://postgres@127.0.0.1:5432/postgres'))
  await t.resolves(checkRedis('redis://127.0.0.1:6379'))
})

import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { createRedisRateLimiter, type RedisEvalClient } from '../src/index.js'
import { recordSleeps, startFake, v2For } from './helper.js'

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function connect (t: { teardown: (fn: () => unknown) => void }): Promise<{ redis: Redis, key: string }> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  const key = `fpwtest-ratelimit-${randomBytes(6).toString('hex')}`
  t.teardown(async () => {
    await redis.del(key)
    await redis.quit()
  })
  return { redis, key }
}

t.test('perMinute=3: the 4th acquire waits for the window to roll', async t => {
  const { redis, key } = await connect(t)
  const limiter = createRedisRateLimiter({ redis, key, perMinute: 3, windowMs: 600 })

  const started = performance.now()
  await limiter.acquire()
  await limiter.acquire()
  await limiter.acquire()
  const firstThree = performance.now() - started
  t.ok(firstThree < 300, `three within budget took ${Math.round(firstThree)} ms`)
  const ttl = await redis.pttl(key)
  t.ok(ttl > 0 && ttl <= 600, `the window has an expiry (${ttl} ms)`)

  await limiter.acquire()
  const fourth = performance.now() - started
  t.ok(fourth >= 550, `the 4th waited for the window to end (${Math.round(fourth)} ms)`)
  t.ok(fourth < 2000)
  t.equal(await redis.get(key), '1', 'the 4th is the first of the new window')
})

t.test('two limiters on one key share the budget (as two processes would)', async t => {
  const { redis, key } = await connect(t)
  const other = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await other.connect()
  t.teardown(async () => { await other.quit() })
  const waits: number[] = []
  const a = createRedisRateLimiter({
    redis,
    key,
    perMinute: 2,
    windowMs: 60_000,
    sleep: async ms => { waits.push(ms); await redis.del(key) }
  })
  const b = createRedisRateLimiter({ redis: other, key, perMinute: 2, windowMs: 60_000 })
  await a.acquire()
  await b.acquire()
  t.same(waits, [])
  // Third call over the shared budget: a sleeps (the stub ends the window by deleting the key).
  await a.acquire()
  t.equal(waits.length, 1)
  t.ok(waits[0]! > 59_000 && waits[0]! <= 60_250, `slept about the window's remaining ${waits[0]} ms`)
})

t.test('a key left without expiry is repaired, not a permanent block', async t => {
  const { redis, key } = await connect(t)
  await redis.set(key, '100')
  const { sleeps, sleep } = recordSleeps()
  const limiter = createRedisRateLimiter({
    redis,
    key,
    perMinute: 3,
    windowMs: 5000,
    sleep: async ms => { await sleep(ms); await redis.del(key) }
  })
  await limiter.acquire()
  t.equal(sleeps.length, 1)
  t.ok(sleeps[0]! >= 5000 && sleeps[0]! < 5300)
})

t.test('the v2 client calls a Redis limiter before each request', async t => {
  const { redis, key } = await connect(t)
  const fake = await startFake(t)
  fake.addPayout({ id: 1 })
  fake.failNext(1, { status: 500 })
  const { sleep } = recordSleeps()
  const client = v2For(fake, { sleep, limiter: createRedisRateLimiter({ redis, key, perMinute: 300 }) })
  await client.markPayoutsPaid([1])
  t.equal(await redis.get(key), '2', 'the retry was counted too')
})

t.test('options and replies are checked', async t => {
  const redis: RedisEvalClient = { eval: async () => 'nonsense' }
  t.throws(() => createRedisRateLimiter({ redis, key: '' }), TypeError)
  t.throws(() => createRedisRateLimiter({ redis, key: 'k', perMinute: 0 }), TypeError)
  t.throws(() => createRedisRateLimiter({ redis, key: 'k', windowMs: 1.5 }), TypeError)
  t.throws(() => createRedisRateLimiter({ redis: {} as RedisEvalClient, key: 'k' }), TypeError)
  await t.rejects(createRedisRateLimiter({ redis, key: 'k' }).acquire(), TypeError)
})

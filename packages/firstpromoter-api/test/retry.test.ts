import t from 'tap'
import { FirstPromoterApiError, backoffDelay, parseRetryAfter, type RetryInfo } from '../src/index.js'
import { recordSleeps, startFake, v1For, v2For } from './helper.js'

t.test('429 with Retry-After: 1 waits 1000 ms, then succeeds', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 10 })
  fake.failNext(1, { status: 429, retryAfter: 1 })
  const { sleeps, sleep } = recordSleeps()
  const retries: RetryInfo[] = []
  const client = v1For(fake, { sleep, onRetry: info => retries.push(info) })

  const payout = await client.updatePayout({ id: 10, status: 'completed' })
  t.equal(payout.status, 'completed')
  t.same(sleeps, [1000], 'slept exactly the Retry-After')
  t.same(fake.requests.map(r => r.status), [429, 200])
  t.same(retries, [{ endpoint: 'PUT /payouts/update', attempt: 1, code: 'rate_limited', status: 429, delayMs: 1000 }])
  t.equal(fake.closeCalls(10).length, 2)
})

t.test('429 with Retry-After: 1 really waits about a second with the default sleep', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 11 })
  fake.failNext(1, { status: 429, retryAfter: 1 })
  const client = v1For(fake)
  const started = performance.now()
  await client.updatePayout({ id: 11, status: 'completed' })
  const elapsed = performance.now() - started
  t.ok(elapsed >= 990, `waited ${Math.round(elapsed)} ms`)
  t.ok(elapsed < 5000)
  t.equal(fake.requests.length, 2)
})

t.test('Retry-After as an HTTP date, and capped at 60 s', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 12 })
  fake.failNext(1, { status: 503, retryAfter: new Date(Date.now() + 5000).toUTCString() })
  fake.failNext(1, { status: 429, retryAfter: 3600 })
  const { sleeps, sleep } = recordSleeps()
  await v1For(fake, { sleep }).updatePayout({ id: 12, status: 'completed' })
  t.equal(sleeps.length, 2)
  t.ok(sleeps[0]! > 3000 && sleeps[0]! <= 5000, `date → ${sleeps[0]} ms`)
  t.equal(sleeps[1], 60_000)
})

t.test('500 twice, then success, with growing jittered backoff', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 20 })
  fake.failNext(2, { status: 500 })
  const { sleeps, sleep } = recordSleeps()
  const payout = await v1For(fake, { sleep, random: () => 1 }).updatePayout({ id: 20, status: 'completed' })
  t.equal(payout.status, 'completed')
  t.same(fake.requests.map(r => r.status), [500, 500, 200])
  t.same(sleeps, [500, 1000], 'base 500 ms, doubling (jitter at its maximum)')
})

t.test('5xx forever: gives up after maxRetries with a retryable server_error', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 21 })
  fake.failNext(10, { status: 502, body: 'Bad gateway' })
  const { sleeps, sleep } = recordSleeps()
  const err = await v1For(fake, { sleep, random: () => 0 }).updatePayout({ id: 21, status: 'completed' }).catch((e: unknown) => e)
  t.ok(err instanceof FirstPromoterApiError)
  t.match(err, { code: 'server_error', status: 502, retryable: true, attempts: 5, body: 'Bad gateway' })
  t.equal(fake.requests.length, 5, 'default maxRetries is 4: five attempts')
  t.same(sleeps, [250, 500, 1000, 2000], 'equal jitter never waits less than half the step')
  t.match((err as Error).message, /server error \(502\) on PUT \/payouts\/update after 5 attempts/)
  t.equal(fake.getPayout(21)?.status, 'pending')
})

t.test('maxRetries: 0 makes one attempt', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 429 })
  const err = await v1For(fake, { maxRetries: 0 }).listPayouts().catch((e: unknown) => e)
  t.match(err, { code: 'rate_limited', status: 429, retryable: true, attempts: 1 })
  t.equal(fake.requests.length, 1)
})

t.test('a timeout is retried, then reported as code timeout', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 30 })
  fake.failNext(3, { timeoutMs: 1000 })
  const { sleeps, sleep } = recordSleeps()
  const started = performance.now()
  const err = await v1For(fake, { sleep, timeoutMs: 100, maxRetries: 2 })
    .updatePayout({ id: 30, status: 'completed' }).catch((e: unknown) => e)
  t.ok(err instanceof FirstPromoterApiError)
  t.match(err, { code: 'timeout', status: undefined, retryable: true, attempts: 3 })
  t.match((err as Error).message, /no answer within 100 ms\) on PUT \/payouts\/update after 3 attempts/)
  t.equal(fake.requests.length, 3)
  t.equal(sleeps.length, 2)
  t.ok(performance.now() - started < 900, 'each attempt was cut at timeoutMs')
})

t.test('a timeout then an answer succeeds', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 31 })
  fake.failNext(1, { timeoutMs: 500 })
  const { sleep } = recordSleeps()
  const payout = await v1For(fake, { sleep, timeoutMs: 100 }).updatePayout({ id: 31, status: 'completed' })
  t.equal(payout.status, 'completed')
  t.equal(fake.requests.length, 2)
})

t.test('a dropped connection is a network error, retried', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 40 })
  fake.failNext(1, { drop: true })
  const { sleeps, sleep } = recordSleeps()
  const payout = await v1For(fake, { sleep }).updatePayout({ id: 40, status: 'completed' })
  t.equal(payout.status, 'completed')
  t.equal(sleeps.length, 1)

  fake.failNext(3, { drop: true })
  const err = await v1For(fake, { sleep, maxRetries: 2 }).listPayouts().catch((e: unknown) => e)
  t.match(err, { code: 'network', status: undefined, retryable: true, attempts: 3 })
  t.match((err as Error).message, /could not be reached on GET \/payouts\/list after 3 attempts/)
})

t.test('nothing listening: network error', async t => {
  const fake = await startFake(t)
  const url = fake.url
  await fake.close()
  const { sleep } = recordSleeps()
  const err = await v1For(fake, { baseUrl: url, sleep, maxRetries: 1 }).listPayouts().catch((e: unknown) => e)
  t.match(err, { code: 'network', attempts: 2 })
  t.match((err as Error).message, /ECONNREFUSED/)
})

t.test('the limiter is awaited before every attempt, retries included', async t => {
  const fake = await startFake(t)
  fake.addCommission({ id: 7 })
  fake.failNext(2, { status: 500 })
  let acquired = 0
  const { sleep } = recordSleeps()
  const client = v2For(fake, { sleep, limiter: { acquire: async () => { acquired++ } } })
  const res = await client.markCommissionsFulfilled([7])
  t.equal(res.status, 200)
  t.equal(acquired, 3)
  t.equal(fake.requests.length, 3)
})

t.test('backoffDelay and parseRetryAfter', async t => {
  t.equal(backoffDelay(0, () => 0), 250)
  t.equal(backoffDelay(0, () => 1), 500)
  t.equal(backoffDelay(3, () => 1), 4000)
  t.equal(backoffDelay(20, () => 1), 30_000, 'capped at 30 s')
  t.equal(backoffDelay(20, () => 0), 15_000)
  t.equal(parseRetryAfter(null), undefined)
  t.equal(parseRetryAfter(''), undefined)
  t.equal(parseRetryAfter('soon'), undefined)
  t.equal(parseRetryAfter('2'), 2000)
  t.equal(parseRetryAfter('0'), 0)
  t.equal(parseRetryAfter('1.5'), 1500)
  t.equal(parseRetryAfter('86400'), 60_000)
  const now = Date.parse('2025-01-01T00:00:00Z')
  t.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now), 7000)
  t.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0, 'a date in the past means now')
})

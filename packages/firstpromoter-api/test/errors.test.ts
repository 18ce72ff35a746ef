import { readFile } from 'node:fs/promises'
import t from 'tap'
import { FirstPromoterApiError, type FirstPromoterApiErrorCode } from '../src/index.js'
import { API_KEY, recordSleeps, startFake, v1For, v2For } from './helper.js'

t.test('v1 401: unauthorized, one request only, key not in the message', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 1 })
  const { sleeps, sleep } = recordSleeps()
  const client = v1For(fake, { apiKey: 'fp_wrong_key_abcdef', sleep })
  const err = await client.updatePayout({ id: 1, status: 'completed' }).catch((e: unknown) => e)

  t.ok(err instanceof FirstPromoterApiError)
  const e = err as FirstPromoterApiError
  t.equal(e.name, 'FirstPromoterApiError')
  t.equal(e.code, 'unauthorized')
  t.equal(e.status, 401)
  t.equal(e.retryable, false)
  t.equal(e.attempts, 1)
  t.equal(e.endpoint, 'PUT /payouts/update')
  t.equal(e.body, 'HTTP Token: Access denied.\n', 'v1 401 body is a plain string')
  t.equal(e.message, 'FirstPromoter API rejected the API key (401) on PUT /payouts/update')
  t.notMatch(e.message, 'fp_wrong_key_abcdef')
  t.notMatch(e.stack ?? '', 'fp_wrong_key_abcdef')
  t.equal(fake.requests.length, 1, 'no retry storm')
  t.same(sleeps, [])
  t.equal(fake.getPayout(1)?.status, 'pending')
})

t.test('v1 404 for an unknown payout surfaces the error body', async t => {
  const fake = await startFake(t)
  const err = await v1For(fake).updatePayout({ id: 424242, status: 'completed' }).catch((e: unknown) => e)
  t.match(err, { code: 'not_found', status: 404, retryable: false, body: { error: 'Payout not found' } })
  t.equal((err as Error).message, 'FirstPromoter API found no such resource (404) on PUT /payouts/update: Payout not found')
  t.equal(fake.requests.length, 1)
})

t.test('v1 422 for a refused status surfaces {"error": …}', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 3 })
  fake.failNext(1, { status: 422, body: { error: 'Status cannot go back to pending' } })
  const err = await v1For(fake).updatePayout({ id: 3, status: 'pending' }).catch((e: unknown) => e)
  t.match(err, { code: 'unprocessable', status: 422, retryable: false, body: { error: 'Status cannot go back to pending' } })
  t.match((err as Error).message, /could not process the request \(422\) on PUT \/payouts\/update: Status cannot go back to pending$/)
  t.equal(fake.requests.length, 1)
})

t.test('the fake answers 422 itself for an invalid status', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 4 })
  const res = await fetch(`${fake.url}/payouts/update`, {
    method: 'PUT',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'id=4&status=paid'
  })
  t.equal(res.status, 422)
  t.same(await res.json(), { error: 'Status paid is not valid' })
})

t.test('400 and 403 are not retried', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 400, body: { error: 'bad' } })
  const err400 = await v1For(fake).listPayouts().catch((e: unknown) => e)
  t.match(err400, { code: 'bad_request', status: 400, retryable: false })
  t.equal(fake.requests.length, 1)

  // The v2 reference's 403 ("invalid user type or insufficient permissions") and its Error body.
  fake.failNext(1, { status: 403, body: { message: 'Invalid user type', code: 'forbidden' } })
  const err403 = await v2For(fake).listPayouts().catch((e: unknown) => e)
  t.match(err403, { code: 'forbidden', status: 403, retryable: false })
  t.match((err403 as Error).message, /: Invalid user type$/)
  t.equal(fake.requests.length, 2)
})

t.test('v2 401 with a wrong Bearer key: no body, and a message that names both credentials', async t => {
  const fake = await startFake(t)
  const err = await v2For(fake, { apiKey: 'wrong-v2-key-123' }).markPayoutsPaid([1]).catch((e: unknown) => e)
  t.match(err, { code: 'unauthorized', status: 401, retryable: false, body: null })
  t.equal((err as Error).message, 'FirstPromoter API rejected the API key or the account id (401) on POST /payouts/mark_as_paid')
  t.equal(fake.requests.length, 1)
})

t.test('a key echoed back by the server never reaches the message', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 400, body: { error: `invalid request for key ${API_KEY}` } })
  const err = await v1For(fake).listPayouts().catch((e: unknown) => e)
  t.equal((err as Error).message, 'FirstPromoter API rejected the request (400) on GET /payouts/list: invalid request for key [redacted]')
})

t.test('a redirect is not followed (it would carry the key elsewhere)', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 301, body: '' })
  const err = await v1For(fake).listPayouts().catch((e: unknown) => e)
  t.match(err, { code: 'bad_request', status: 301, retryable: false })
  t.equal(fake.requests.length, 1)
})

t.test('the README lists every error code', async t => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const codes: FirstPromoterApiErrorCode[] = [
    'bad_request', 'unauthorized', 'forbidden', 'not_found', 'unprocessable',
    'rate_limited', 'server_error', 'timeout', 'network'
  ]
  for (const code of codes) t.match(readme, `| \`${code}\``, code)
})

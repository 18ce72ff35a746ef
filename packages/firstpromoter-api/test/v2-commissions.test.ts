import t from 'tap'
import { FirstPromoterApiError } from '../src/index.js'
import { ACCOUNT_ID, API_KEY, recordSleeps, startFake, v2For } from './helper.js'

const V2 = '/api/v2/company'

t.test('listCommissions: filters[status|fulfilled|unit|promoter_id|campaign_id], page, per_page; the fake filters', async t => {
  const fake = await startFake(t)
  fake.addCommission({ id: 1, status: 'approved', unit: 'points' })
  fake.addCommission({ id: 2, status: 'approved', unit: 'points', fulfillment_status: 'fulfilled' })
  fake.addCommission({ id: 3, status: 'pending', unit: 'points' })
  fake.addCommission({ id: 4, status: 'approved', unit: 'credits' })
  fake.addCommission({ id: 5, status: 'approved', unit: 'cash' })
  fake.addCommission({ id: 6, status: 'approved', unit: 'points', promoterId: 77, campaignId: 9 })
  const client = v2For(fake)

  const unfulfilled = await client.listCommissions({ status: 'approved', fulfilled: false, unit: 'points' })
  t.same(unfulfilled.map(c => c.id), [1, 6])
  t.same(fake.requests[0]!.query, { 'filters[status]': 'approved', 'filters[fulfilled]': 'no', 'filters[unit]': 'points' })
  t.equal(fake.requests[0]!.path, `${V2}/commissions`)

  t.same((await client.listCommissions({ fulfilled: true })).map(c => c.id), [2])
  t.same((await client.listCommissions({ status: 'approved', fulfilled: false })).map(c => c.id), [1, 4, 6], 'fulfilled filters out monetary units')
  t.same((await client.listCommissions({ promoterId: 77 })).map(c => c.id), [6])
  t.same((await client.listCommissions({ campaignId: '9' })).map(c => c.id), [6])
  t.same((await client.listCommissions({ page: 2, perPage: 4 })).map(c => c.id), [5, 6])
  t.same(fake.requests.at(-1)!.query, { page: '2', per_page: '4' })

  await t.rejects(client.listCommissions({ perPage: 101 }), TypeError)
  await t.rejects(client.listCommissions({ page: 0 }), TypeError)
  await t.rejects(client.listCommissions({ unit: '' }), TypeError)
})

t.test('listAllCommissions walks 100 a page and yields each commission once', async t => {
  const fake = await startFake(t)
  for (let id = 1; id <= 250; id++) fake.addCommission({ id, status: id % 5 === 0 ? 'pending' : 'approved', unit: 'free_months' })
  const client = v2For(fake)
  const ids: number[] = []
  for await (const c of client.listAllCommissions({ status: 'approved', fulfilled: false, unit: 'free_months' })) ids.push(c.id)
  t.equal(ids.length, 200)
  t.equal(new Set(ids).size, 200)
  // Page 2 is full, so page 3 is asked for and comes back empty.
  t.same(fake.requests.map(r => [r.query.page, r.query.per_page]), [['1', '100'], ['2', '100'], ['3', '100']])
})

t.test('getCommission reads one commission through the documented ids[] filter', async t => {
  const fake = await startFake(t)
  fake.addCommission({ id: 41 })
  const seeded = fake.addCommission({ id: 42, unit: 'points', amount: 500, promoterId: 12345, referral: { id: 55678, email: 'user@example.com', uid: 'user_ext_id' } })
  const client = v2For(fake)

  const c = await client.getCommission(42)
  t.equal(c?.id, 42)
  t.same(c?.referral, { id: 55678, email: 'user@example.com', uid: 'user_ext_id' })
  t.equal(c?.promoter_campaign?.promoter_id, 12345)
  t.equal(c?.promoter_campaign?.promoter?.id, 12345)
  t.same(c, JSON.parse(JSON.stringify(seeded)))
  t.equal(fake.requests[0]!.url, `${V2}/commissions?ids%5B%5D=42`)

  t.equal(await client.getCommission('43'), null, 'unknown id: null, not an error')
  await t.rejects(client.getCommission(-1), TypeError)
})

t.test('mark_fulfilled with at most 5 ids: 200, done at once', async t => {
  const fake = await startFake(t)
  for (const id of [11, 12, 13, 14, 15]) fake.addCommission({ id, unit: 'points' })
  const client = v2For(fake)

  const res = await client.markCommissionsFulfilled([11, 12, '13', 14, 15])
  t.equal(res.status, 200)
  t.equal(res.async, false)
  t.match(res.body, { status: 'completed', total: 5, processed_count: 5, failed_count: 0, action_label: 'mark_fulfilled' })
  for (const id of [11, 12, 13, 14, 15]) t.equal(fake.commissions.get(id)?.fulfillment_status, 'fulfilled')
  t.same(fake.requests[0]!.body, { ids: [11, 12, 13, 14, 15] })

  const again = await client.markCommissionsFulfilled([11])
  t.equal(again.status, 200, 'marking a fulfilled commission again is harmless')
  t.same(await client.listCommissions({ fulfilled: false }), [])
})

t.test('mark_fulfilled refuses the whole call for an unknown, unapproved or monetary id', async t => {
  const fake = await startFake(t)
  fake.addCommission({ id: 21, unit: 'points' })
  fake.addCommission({ id: 22, unit: 'points', status: 'pending' })
  fake.addCommission({ id: 23, unit: 'cash' })
  const client = v2For(fake)

  const unknown = await client.markCommissionsFulfilled([21, 999]).catch((e: unknown) => e)
  t.match(unknown, { code: 'not_found', status: 404, retryable: false, body: { code: 'not_found' } })
  t.match((unknown as Error).message, /found no such resource \(404\) on POST \/commissions\/mark_fulfilled: .*999/)

  const pending = await client.markCommissionsFulfilled([21, 22]).catch((e: unknown) => e)
  t.match(pending, { code: 'unprocessable', status: 422, retryable: false })
  t.match((pending as Error).message, /22 is not approved/)

  const cash = await client.markCommissionsFulfilled([23]).catch((e: unknown) => e)
  t.match(cash, { code: 'unprocessable', status: 422 })
  t.match((cash as Error).message, /23 is not a non-monetary commission/)

  t.equal(fake.commissions.get(21)?.fulfillment_status, 'pending', 'nothing was marked')
  t.same(fake.requests.map(r => r.status), [404, 422, 422], 'no retries for 4xx')
})

t.test('more than 5 ids: 202 with a pending batch; fulfilled only once the batch completes', async t => {
  const fake = await startFake(t, { batchDelayMs: 30 })
  const ids = [31, 32, 33, 34, 35, 36, 37]
  for (const id of ids) fake.addCommission({ id, unit: 'credits' })
  const client = v2For(fake)

  const res = await client.markCommissionsFulfilled(ids)
  t.equal(res.status, 202)
  t.equal(res.async, true)
  t.match(res.body, { status: 'pending', total: 7, processed_count: 0 })
  const batchId = res.body?.id
  t.type(batchId, 'number')
  t.ok(ids.every(id => fake.commissions.get(id)?.fulfillment_status === 'pending'), 'nothing fulfilled yet')
  t.match(await client.getBatch(batchId!), { id: batchId, status: /^(pending|in_progress)$/ })

  const done = await client.waitForBatch(batchId!, { intervalMs: 20, timeoutMs: 5000 })
  t.match(done, { id: batchId, status: 'completed', processed_count: 7, failed_count: 0, progress: 100 })
  t.ok(ids.every(id => fake.commissions.get(id)?.fulfillment_status === 'fulfilled'), 'fulfilled after completion')
  const polls = fake.requests.filter(r => r.path === `${V2}/batch_processes/${batchId}`)
  t.ok(polls.length >= 2, `polled ${polls.length} times`)
  t.ok(polls.every(r => r.headers['account-id'] === ACCOUNT_ID && r.headers.authorization === `Bearer ${API_KEY}`))
})

t.test('an async batch records the ids it could not mark', async t => {
  const fake = await startFake(t, { batchDelayMs: 5 })
  for (const id of [41, 42, 43, 44, 45]) fake.addCommission({ id, unit: 'points' })
  fake.addCommission({ id: 46, unit: 'points', status: 'denied' })
  const client = v2For(fake)
  const res = await client.markCommissionsFulfilled([41, 42, 43, 44, 45, 46, 4711])
  t.equal(res.status, 202, 'an async call is accepted before the ids are checked')
  const done = await client.waitForBatch(res.body!.id!, { intervalMs: 10, timeoutMs: 5000 })
  t.match(done, { status: 'completed', processed_count: 5, failed_count: 2 })
  t.equal(done.processing_errors?.length, 2)
  t.equal(fake.commissions.get(46)?.fulfillment_status, 'pending')

  const allBad = await client.markCommissionsFulfilled([46, 46, 4711, 4712, 4713, 4714])
  t.match(await client.waitForBatch(allBad.body!.id!, { intervalMs: 10, timeoutMs: 5000 }), { status: 'failed', failed_count: 6 })
})

t.test('waitForBatch gives up after its timeout with a retryable error; getBatch of an unknown id is not_found', async t => {
  const fake = await startFake(t, { batchDelayMs: 60_000 })
  for (let id = 51; id <= 56; id++) fake.addCommission({ id, unit: 'points' })
  const { sleeps, sleep } = recordSleeps()
  const client = v2For(fake, { sleep })
  const res = await client.markCommissionsFulfilled([51, 52, 53, 54, 55, 56])
  const err = await client.waitForBatch(res.body!.id!, { intervalMs: 1000, timeoutMs: 3000 }).catch((e: unknown) => e)
  t.ok(err instanceof FirstPromoterApiError)
  t.match(err, { code: 'timeout', retryable: true, endpoint: `GET /batch_processes/${res.body!.id!}` })
  t.match((err as Error).message, /still pending after 3000 ms/)
  t.same(sleeps, [1000, 1000, 1000])

  fake.settleBatches()
  t.match(await client.getBatch(res.body!.id!), { status: 'completed' })
  t.match(await client.getBatch(999).catch((e: unknown) => e), { code: 'not_found', status: 404 })
  await t.rejects(client.waitForBatch(1, { intervalMs: 0 }), TypeError)
})

t.test('v2 401 has no JSON body, for a wrong key and for a wrong account id; the error says which credentials', async t => {
  const fake = await startFake(t)
  for (const options of [{ apiKey: 'wrong-v2-key-123' }, { accountId: 'acc_other' }]) {
    fake.reset()
    const err = await v2For(fake, options).listCommissions().catch((e: unknown) => e)
    t.ok(err instanceof FirstPromoterApiError)
    t.match(err, { code: 'unauthorized', status: 401, retryable: false, body: null, attempts: 1 })
    t.equal((err as Error).message, 'FirstPromoter API rejected the API key or the account id (401) on GET /commissions')
    t.notMatch((err as Error).message, 'wrong-v2-key-123')
    t.equal(fake.requests.length, 1, 'not retried')
  }

  const raw = await fetch(`${fake.v2Url}/commissions`, { headers: { authorization: 'Bearer nope', 'account-id': ACCOUNT_ID } })
  t.equal(raw.status, 401)
  t.equal(raw.headers.get('content-type'), null)
  t.equal(await raw.text(), '')
})

t.test('over the rate limit: 429 with Retry-After, honoured by the client', async t => {
  const fake = await startFake(t, { v2RateLimitPerMinute: 2 })
  fake.addCommission({ id: 61, unit: 'points' })
  const sleeps: number[] = []
  // The wait is recorded and the fake's window ends at once, as if a minute had passed.
  const client = v2For(fake, { sleep: async (ms) => { sleeps.push(ms); fake.resetRateLimit() } })
  await client.getCommission(61)
  await client.getCommission(61)
  const c = await client.getCommission(61)
  t.equal(c?.id, 61)
  t.same(fake.requests.map(r => r.status), [200, 200, 429, 200])
  const limited = fake.requests[2]!
  t.ok(Number(limited.responseHeaders?.['retry-after']) >= 1, 'Retry-After in seconds')
  t.same(sleeps, [Number(limited.responseHeaders?.['retry-after']) * 1000])
})

t.test('the fake allows 400 v2 requests a minute, then answers 429', async t => {
  const fake = await startFake(t)
  const headers = { authorization: `Bearer ${API_KEY}`, 'account-id': ACCOUNT_ID }
  for (let i = 0; i < 400; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, async () => (await fetch(`${fake.v2Url}/commissions`, { headers })).status))
    t.ok(batch.every(s => s === 200), `requests ${i + 1}–${i + 50}`)
  }
  const over = await fetch(`${fake.v2Url}/commissions`, { headers })
  t.equal(over.status, 429)
  const retryAfter = Number(over.headers.get('retry-after'))
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
  const v1 = await fetch(`${fake.url}/payouts/list`, { headers: { 'x-api-key': API_KEY } })
  t.equal(v1.status, 200, 'v1 is not counted against v2')
})

t.test('the fake: batch list, malformed mark_fulfilled bodies, unknown v2 paths', async t => {
  const fake = await startFake(t, { batchDelayMs: 60_000 })
  for (let id = 71; id <= 77; id++) fake.addCommission({ id, unit: 'points' })
  const client = v2For(fake)
  const running = await client.markCommissionsFulfilled([71, 72, 73, 74, 75, 76])
  const done = await client.markCommissionsFulfilled([77])
  const headers = { authorization: `Bearer ${API_KEY}`, 'account-id': ACCOUNT_ID, 'content-type': 'application/json' }
  const ids = async (query: string): Promise<unknown> =>
    ((await (await fetch(`${fake.v2Url}/batch_processes${query}`, { headers })).json()) as Array<{ id: number }>).map(b => b.id)
  t.same(await ids(''), [running.body!.id], 'unfinished batches by default')
  t.same(await ids('?filters[status]=completed'), [done.body!.id])
  t.same(await ids('?filters[status][]=completed&filters[status][]=pending'), [running.body!.id, done.body!.id])

  for (const body of ['{"ids":[]}', '{"ids":[1.5]}', '{"ids":"71"}', '{}', 'not json']) {
    const res = await fetch(`${fake.v2Url}/commissions/mark_fulfilled`, { method: 'POST', headers, body })
    t.equal(res.status, 422, body)
    t.match(await res.json(), { code: 'unprocessable_entity' })
  }
  const unknown = await fetch(`${fake.v2Url}/commissions/88901`, { headers })
  t.equal(unknown.status, 404, 'no GET /commissions/{id}: the docs have none')
})

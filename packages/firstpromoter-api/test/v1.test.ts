import t from 'tap'
import { API_KEY, startFake, v1For } from './helper.js'

t.test('updatePayout sends a form-encoded PUT with X-API-KEY and returns the payout', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 2429153, amount: 3, unit: 'free_months' })
  const client = v1For(fake)

  const payout = await client.updatePayout({ id: 2429153, status: 'completed' })

  t.equal(payout.id, 2429153)
  t.equal(payout.status, 'completed')
  t.equal(payout.amount, 3)
  t.equal(payout.unit, 'free_months')
  t.type(payout.date_paid, 'string', 'the fake sets date_paid on completion')
  t.equal(fake.getPayout(2429153)?.status, 'completed')

  t.equal(fake.requests.length, 1)
  const req = fake.requests[0]!
  t.equal(req.method, 'PUT')
  t.equal(req.path, '/api/v1/payouts/update')
  t.equal(req.headers['x-api-key'], API_KEY)
  t.equal(req.headers.authorization, undefined, 'v1 sends no Authorization header')
  t.equal(req.headers['content-type'], 'application/x-www-form-urlencoded')
  t.equal(req.rawBody, 'id=2429153&status=completed')
  t.same(req.body, { id: '2429153', status: 'completed' })
  t.same(req.query, {})
  t.equal(fake.closeCalls(2429153).length, 1)
})

t.test('updatePayout accepts a numeric string id and is idempotent', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 77 })
  const client = v1For(fake)
  await client.updatePayout({ id: '77', status: 'completed' })
  const again = await client.updatePayout({ id: 77, status: 'completed' })
  t.equal(again.status, 'completed')
  t.equal(fake.closeCalls(77).length, 2)
  t.equal(fake.requests[0]!.rawBody, 'id=77&status=completed')
})

t.test('updatePayout rejects bad input before sending anything', async t => {
  const fake = await startFake(t)
  const client = v1For(fake)
  await t.rejects(client.updatePayout({ id: 0, status: 'completed' }), TypeError)
  await t.rejects(client.updatePayout({ id: '12a', status: 'completed' }), TypeError)
  // @ts-expect-error an undocumented status is refused by the type and at run time
  await t.rejects(client.updatePayout({ id: 1, status: 'paid' }), TypeError)
  t.equal(fake.requests.length, 0)
})

t.test('listPayouts sends status, filters and paging as query fields', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 1, campaign: { id: 9 }, promoter: { id: 55, cust_id: 'u-55', email: 'a@example.com' } })
  fake.addPayout({ id: 2, campaign: { id: 9 } })
  fake.addPayout({ id: 3, status: 'completed', campaign: { id: 9 }, promoter: { id: 55, cust_id: 'u-55', email: 'a@example.com' } })
  const client = v1For(fake)

  const page = await client.listPayouts({ status: 'pending', campaignId: 9, promoterId: 55, page: 1, perPage: 50 })
  t.same(page.map(p => p.id), [1])
  t.equal(page[0]!.promoter?.cust_id, 'u-55')

  const req = fake.requests[0]!
  t.equal(req.method, 'GET')
  t.equal(req.path, '/api/v1/payouts/list')
  t.same(req.query, { status: 'pending', campaign_id: '9', promoter_id: '55', page: '1', per_page: '50' })
  t.equal(req.headers['x-api-key'], API_KEY)
  t.equal(req.rawBody, '', 'a GET carries no body')

  const all = await client.listPayouts()
  t.same(all.map(p => p.id), [1, 2, 3])
  t.same(fake.requests[1]!.query, {}, 'no filter, no query fields')
})

t.test('listPayouts walks 3 pages; listAllPayouts stops at the short page', async t => {
  const fake = await startFake(t)
  for (let id = 101; id <= 125; id++) fake.addPayout({ id })
  fake.addPayout({ id: 999, status: 'completed' })
  const client = v1For(fake)

  const p1 = await client.listPayouts({ status: 'pending', page: 1, perPage: 10 })
  const p2 = await client.listPayouts({ status: 'pending', page: 2, perPage: 10 })
  const p3 = await client.listPayouts({ status: 'pending', page: 3, perPage: 10 })
  const p4 = await client.listPayouts({ status: 'pending', page: 4, perPage: 10 })
  t.same([p1.length, p2.length, p3.length, p4.length], [10, 10, 5, 0])
  t.equal(p2[0]!.id, 111)
  fake.reset()

  const ids: number[] = []
  for await (const payout of client.listAllPayouts({ status: 'pending', perPage: 10 })) ids.push(payout.id)
  t.equal(ids.length, 25)
  t.same(ids, Array.from({ length: 25 }, (_, i) => 101 + i))
  t.same(fake.requests.map(r => r.query.page), ['1', '2', '3'], 'three requests, no fourth after the short page')
  t.ok(fake.requests.every(r => r.query.per_page === '10' && r.query.status === 'pending'))
})

t.test('listAllPayouts stops on an empty page and at maxPages', async t => {
  const fake = await startFake(t)
  for (let id = 1; id <= 20; id++) fake.addPayout({ id })
  const client = v1For(fake)

  const ids: number[] = []
  for await (const p of client.listAllPayouts({ perPage: 10 })) ids.push(p.id)
  t.equal(ids.length, 20)
  t.same(fake.requests.map(r => r.query.page), ['1', '2', '3'], 'a full last page needs one empty page to end')
  fake.reset()

  const walked = []
  for await (const payout of client.listAllPayouts({ perPage: 5, maxPages: 2 })) walked.push(payout)
  t.equal(walked.length, 10)
  t.equal(fake.requests.length, 2)
})

t.test('listAllPayouts ends when the server ignores page (no loop, no duplicates)', async t => {
  const fake = await startFake(t)
  for (let id = 1; id <= 3; id++) fake.addPayout({ id })
  // Every request gets the same full page, as a server that ignores page/per_page would send.
  const same = [...fake.payouts.values()]
  fake.failNext(50, { status: 200, body: same })
  const client = v1For(fake)
  const ids: number[] = []
  for await (const p of client.listAllPayouts({ perPage: 3 })) ids.push(p.id)
  t.same(ids, [1, 2, 3])
  t.equal(fake.requests.length, 2)
})

t.test('a 2xx body that is not a payout list is an error', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 200, body: { unexpected: true } })
  const client = v1For(fake)
  const err = await client.listPayouts().catch((e: unknown) => e)
  t.match(err, { name: 'FirstPromoterApiError', code: 'server_error', status: 200 })
})

t.test('baseUrl may end with a slash; bad options throw TypeError', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 5 })
  const client = v1For(fake, { baseUrl: `${fake.url}/` })
  t.equal((await client.updatePayout({ id: 5, status: 'processing' })).status, 'processing')
  t.equal(fake.requests[0]!.path, '/api/v1/payouts/update')
  t.throws(() => v1For(fake, { apiKey: '' }), TypeError)
  t.throws(() => v1For(fake, { baseUrl: 'not a url' }), TypeError)
  t.throws(() => v1For(fake, { timeoutMs: 0 }), TypeError)
  t.throws(() => v1For(fake, { maxRetries: -1 }), TypeError)
  t.equal(v1For(fake).baseUrl, fake.url)
})

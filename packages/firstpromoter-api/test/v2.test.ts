import t from 'tap'
import { ACCOUNT_ID, API_KEY, recordSleeps, startFake, v2For } from './helper.js'

t.test('markPayoutsPaid: Bearer + ACCOUNT-ID, JSON {"ids": [...]}, 200', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 501 })
  fake.addPayout({ id: 502 })
  const res = await v2For(fake).markPayoutsPaid([501, '502'])

  t.equal(res.status, 200)
  t.match(res.body, { status: 'completed', total: 2, processed_count: 2 })
  t.equal(fake.getPayout(501)?.status, 'completed')
  t.equal(fake.getPayout(502)?.status, 'completed')

  t.equal(fake.requests.length, 1)
  const req = fake.requests[0]!
  t.equal(req.method, 'POST')
  t.equal(req.path, '/api/v2/company/payouts/mark_as_paid')
  t.equal(req.headers.authorization, `Bearer ${API_KEY}`)
  t.equal(req.headers['account-id'], ACCOUNT_ID)
  t.equal(req.headers['x-api-key'], undefined, 'v2 sends no X-API-KEY')
  t.equal(req.headers['content-type'], 'application/json')
  t.equal(req.rawBody, '{"ids":[501,502]}', 'numeric strings are sent as numbers')
  t.equal(fake.closeCalls(501).length, 1)
})

t.test('more than 5 ids: 202 is success too', async t => {
  const fake = await startFake(t)
  const ids = [1, 2, 3, 4, 5, 6].map(id => fake.addPayout({ id }).id)
  const res = await v2For(fake).markPayoutsPaid(ids)
  t.equal(res.status, 202)
  t.match(res.body, { status: 'in_progress', total: 6 })
  t.equal(fake.requests.length, 1, 'no retry on 202')
})

t.test('markCommissionsFulfilled', async t => {
  const fake = await startFake(t)
  fake.addCommission({ id: 900 })
  const res = await v2For(fake).markCommissionsFulfilled([900])
  t.equal(res.status, 200)
  t.equal(fake.commissions.get(900)?.fulfillment_status, 'fulfilled')
  const req = fake.requests[0]!
  t.equal(req.path, '/api/v2/company/commissions/mark_fulfilled')
  t.same(req.body, { ids: [900] })
  t.equal(req.headers['account-id'], ACCOUNT_ID)

  const err = await v2For(fake).markCommissionsFulfilled([901]).catch((e: unknown) => e)
  t.match(err, { code: 'not_found', status: 404, body: { message: 'Commission 901 not found', code: 'not_found' } })
})

t.test('bulk input is checked before sending', async t => {
  const fake = await startFake(t)
  const client = v2For(fake)
  await t.rejects(client.markPayoutsPaid([]), TypeError)
  await t.rejects(client.markPayoutsPaid([1, -2]), TypeError)
  await t.rejects(client.listPayouts({ perPage: 101 }), TypeError)
  t.equal(fake.requests.length, 0)
  t.throws(() => v2For(fake, { accountId: '' }), TypeError)
})

t.test('listPayouts: filters[status], page, per_page; listAllPayouts walks 100 a page', async t => {
  const fake = await startFake(t)
  for (let id = 1; id <= 230; id++) fake.addPayout({ id, status: id % 10 === 0 ? 'completed' : 'pending' })
  const client = v2For(fake)

  const page = await client.listPayouts({ status: 'pending', page: 2, perPage: 100 })
  t.equal(page.length, 100)
  t.equal(page[0]!.status, 'pending')
  const req = fake.requests[0]!
  t.equal(req.method, 'GET')
  t.equal(req.path, '/api/v2/company/payouts')
  t.same(req.query, { 'filters[status]': 'pending', page: '2', per_page: '100' })
  t.match(req.rawBody, '')
  fake.reset()

  const statuses: string[] = []
  for await (const p of client.listAllPayouts({ status: 'pending' })) statuses.push(p.status)
  t.equal(statuses.length, 207)
  t.ok(statuses.every(s => s === 'pending'))
  t.same(fake.requests.map(r => r.query.page), ['1', '2', '3'])
})

t.test('v2 429 with Retry-After, then 200', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 1 })
  fake.failNext(1, { status: 429, retryAfter: 2, path: '/api/v2/company/payouts/mark_as_paid' })
  const { sleeps, sleep } = recordSleeps()
  const res = await v2For(fake, { sleep }).markPayoutsPaid([1])
  t.equal(res.status, 200)
  t.same(sleeps, [2000])
  t.same(fake.requests.map(r => r.status), [429, 200])
})

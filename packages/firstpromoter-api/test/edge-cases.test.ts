import t from 'tap'
import { API_KEY, ACCOUNT_ID, recordSleeps, startFake, v1For, v2For } from './helper.js'

t.test('option and argument checks', async t => {
  const fake = await startFake(t)
  t.throws(() => v1For(fake, { baseUrl: 'ftp://example.com/api' }), TypeError)
  await t.rejects(v1For(fake).listPayouts({ page: 0 }), TypeError)
  await t.rejects(v1For(fake).listPayouts({ perPage: 2.5 }), TypeError)
  await t.rejects(v1For(fake).listPayouts({ campaignId: 'abc' }), TypeError)
  const walk = v1For(fake).listAllPayouts({ perPage: 0 })
  await t.rejects(walk.next(), TypeError)
  await t.rejects(v1For(fake).listAllPayouts({ maxPages: 0 }).next(), TypeError)
  t.equal(fake.requests.length, 0)
})

t.test('an injected fetch is used; its failures are network errors', async t => {
  const fake = await startFake(t)
  const { sleep } = recordSleeps()
  let calls = 0
  const failing: typeof fetch = async () => { calls++; throw new Error('socket hang up') }
  const err = await v1For(fake, { fetch: failing, sleep, maxRetries: 1 }).listPayouts().catch((e: unknown) => e)
  t.match(err, { code: 'network', attempts: 2 })
  t.match((err as Error).message, /could not be reached on GET \/payouts\/list after 2 attempts: socket hang up$/)
  t.equal(calls, 2)
  t.equal(fake.requests.length, 0)
})

t.test('a { data: [...] } envelope is accepted for lists', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 200, body: { data: [{ id: 1, status: 'pending', amount: 1, unit: 'points' }, 'junk'], meta: {} } })
  const list = await v2For(fake).listPayouts()
  t.same(list.map(p => p.id), [1], 'items without an id are dropped')
})

t.test('update answered with something that is not a payout', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 200, body: 'OK' })
  const err = await v1For(fake).updatePayout({ id: 1, status: 'completed' }).catch((e: unknown) => e)
  t.match(err, { code: 'server_error', status: 200, body: 'OK', retryable: true })
})

t.test('v2 bulk: a non-object body is reported as null', async t => {
  const fake = await startFake(t)
  fake.failNext(1, { status: 202, body: '' })
  const res = await v2For(fake).markPayoutsPaid([1])
  t.same(res, { status: 202, body: null, async: true })
})

t.test('the fake: unknown routes, wrong content types, bad JSON', async t => {
  const fake = await startFake(t)
  fake.addPayout({ id: 1 })
  const v1Headers = { 'x-api-key': API_KEY }
  const v2Headers = { authorization: `Bearer ${API_KEY}`, 'account-id': ACCOUNT_ID }

  let res = await fetch(`${fake.url}/payouts/nope`, { headers: v1Headers })
  t.equal(res.status, 404)
  res = await fetch(`${fake.url}/payouts/update`, { method: 'POST', headers: v1Headers })
  t.equal(res.status, 404, 'update is PUT only')
  res = await fetch(`${fake.origin}/elsewhere`)
  t.equal(res.status, 404)

  res = await fetch(`${fake.url}/payouts/update`, {
    method: 'PUT', headers: { ...v1Headers, 'content-type': 'application/json' }, body: '{"id":1,"status":"completed"}'
  })
  t.equal(res.status, 404, 'v1 ignores a JSON body: no id')
  res = await fetch(`${fake.url}/payouts/update?id=1&status=processing`, { method: 'PUT', headers: v1Headers })
  t.equal(res.status, 200, 'v1 takes query fields too')
  t.equal(fake.getPayout(1)?.status, 'processing')
  t.equal(fake.closeCalls(1).length, 2, 'the JSON PUT and the query PUT; not the POST')

  res = await fetch(`${fake.v2Url}/payouts/mark_as_paid`, {
    method: 'POST', headers: { ...v2Headers, 'content-type': 'application/x-www-form-urlencoded' }, body: 'ids=1'
  })
  t.equal(res.status, 422, 'v2 wants JSON')
  res = await fetch(`${fake.v2Url}/payouts/mark_as_paid`, {
    method: 'POST', headers: { ...v2Headers, 'content-type': 'application/json' }, body: '{oops'
  })
  t.equal(res.status, 422)
  t.equal(fake.requests.at(-1)?.body, '{oops')
  res = await fetch(`${fake.v2Url}/payouts/mark_as_paid`, {
    method: 'POST', headers: { ...v2Headers, 'content-type': 'text/plain' }, body: 'hello'
  })
  t.equal(fake.requests.at(-1)?.body, 'hello')
  t.equal(res.status, 422)
  t.equal(fake.getPayout(1)?.status, 'processing')

  t.throws(() => { fake.failNext(0, { status: 500 }) }, TypeError)
})

t.test('the fake can start with payouts and drop a promoter', async t => {
  const fake = await startFake(t, { payouts: [{ id: 3, promoter: null }, { amount: 5 }] })
  t.equal(fake.payouts.size, 2)
  t.equal(fake.getPayout(3)?.promoter, null)
  const list = await v2For(fake).listPayouts({ perPage: 100 })
  t.same(list.map(p => p.promoter === null), [true, false])
})

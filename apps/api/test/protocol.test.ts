import { PermanentGrantError } from '@fp-webhooks/worker'
import t from 'tap'
import { build, fulfilmentPayload, post, sleep, startWorker, waitFor } from './helper.js'

async function ledgerRows (app: { sql: any }, id: number): Promise<number> {
  const rows = await app.sql`select count(*)::int as n from ledger_entries where fulfilment_id = ${id}`
  return rows[0].n
}

t.test('a fast grant is answered 200, and the ledger holds one row', async (t) => {
  const app = await build(t)
  await startWorker(t, app)
  const body = fulfilmentPayload({ amount: 3 })
  const res = await post(app.server, body)
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { fulfilment_id: body.data.id, state: 'granted' })
  t.equal(await ledgerRows(app, body.data.id), 1)
  const balance = await app.sql`select sum(amount)::int as b from ledger_entries where beneficiary = ${'promoter:' + body.data.promoter.id}`
  t.equal(balance[0].b, 3)
  // FirstPromoter's re-fire (a new event id for the same fulfilment) ends at once with 200.
  const again = fulfilmentPayload({ id: body.data.id })
  const res2 = await post(app.server, again)
  t.equal(res2.statusCode, 200)
  t.equal(await ledgerRows(app, body.data.id), 1)
  await waitFor(async () => (await app.sql`select count(*)::int as n from fulfilment_answers where fulfilment_id = ${body.data.id}`)[0].n === 2, 5000, 'answers recorded')
  const answers = await app.sql`select status_code from fulfilment_answers where fulfilment_id = ${body.data.id} order by id`
  t.same(answers.map((a: any) => a.status_code), [200, 200])
})

t.test('a slow grant is answered 202, then 200 on the re-fire after it is done', async (t) => {
  const app = await build(t, { env: { FP_FULFILMENT_WAIT_MS: '200' } })
  await startWorker(t, app, { grants: { free_months: async () => { await sleep(1000) } } })
  const body = fulfilmentPayload()
  const res = await post(app.server, body)
  t.equal(res.statusCode, 202, res.body)
  t.same(res.json(), { fulfilment_id: body.data.id, state: 'pending' })
  const pendingMark = await app.sql`select answered_pending from fulfilments where id = ${body.data.id}`
  t.equal(pendingMark[0].answered_pending, true, 'the worker knows FirstPromoter was told "pending"')
  await waitFor(async () => (await app.sql`select state from fulfilments where id = ${body.data.id}`)[0].state === 'granted', 10_000, 'grant')
  const res2 = await post(app.server, body)
  t.equal(res2.statusCode, 200)
  t.equal(await ledgerRows(app, body.data.id), 1)
})

t.test('a grant that fails for good is answered 422 with the reason, now and on every re-fire', async (t) => {
  const app = await build(t)
  await startWorker(t, app, { grants: { credits: () => { throw new PermanentGrantError('customer user_42 does not exist') } } })
  const body = fulfilmentPayload({ unit: 'credits' })
  const res = await post(app.server, body)
  t.equal(res.statusCode, 422, res.body)
  t.match(res.json(), { code: 'FST_FIRSTPROMOTER_FULFILMENT_FAILED', fulfilment_id: body.data.id, message: /customer user_42 does not exist/ })
  const res2 = await post(app.server, fulfilmentPayload({ id: body.data.id, unit: 'credits' }))
  t.equal(res2.statusCode, 422)
  t.equal(await ledgerRows(app, body.data.id), 0)
})

t.test('a unit nobody grants is answered 422 naming the unit', async (t) => {
  const app = await build(t)
  await startWorker(t, app)
  const res = await post(app.server, fulfilmentPayload({ unit: 'discount_per' }))
  t.equal(res.statusCode, 422)
  t.match(res.json().message, /no grant function for unit "discount_per"/)
})

t.test('50 concurrent identical deliveries: one fulfilment, one grant, no error answers', async (t) => {
  const app = await build(t)
  await startWorker(t, app, { grants: { free_months: async () => { await sleep(300) } } })
  const body = fulfilmentPayload({ amount: 2 })
  const answers = await Promise.all(Array.from({ length: 50 }, () => post(app.server, body)))
  const codes = answers.map((a) => a.statusCode)
  t.ok(codes.every((c) => c === 200 || c === 202), `only 200/202: ${[...new Set(codes)].join(',')}`)
  await waitFor(async () => (await app.sql`select state from fulfilments where id = ${body.data.id}`)[0].state === 'granted', 10_000, 'grant')
  t.equal((await app.sql`select count(*)::int as n from fulfilments`)[0].n, 1)
  t.equal((await app.sql`select count(*)::int as n from webhook_events`)[0].n, 1)
  t.equal(await ledgerRows(app, body.data.id), 1)
})

t.test('cust_id, when set, is whom the ledger credits', async (t) => {
  const app = await build(t)
  await startWorker(t, app)
  const res = await post(app.server, fulfilmentPayload({ custId: 'user_42', amount: 5 }))
  t.equal(res.statusCode, 200)
  const rows = await app.sql`select beneficiary, amount::int from ledger_entries`
  t.same(rows.map((r: any) => [r.beneficiary, r.amount]), [['cust:user_42', 5]])
})

t.test('a grant that keeps failing transiently is answered 202, also after more attempts than the old limit, and shows in /metrics', async (t) => {
  const app = await build(t, { env: { FP_FULFILMENT_WAIT_MS: '200', METRICS_REFRESH_MS: '100' } })
  let calls = 0
  await startWorker(t, app, {
    grantRetry: { delayMs: 10, maxDelayMs: 40 },
    grants: { free_months: () => { calls++; throw new Error('billing API unavailable') } }
  })
  const body = fulfilmentPayload()
  t.equal((await post(app.server, body)).statusCode, 202)
  await waitFor(() => calls >= 15, 15_000, '15 attempts')
  const refire = await post(app.server, fulfilmentPayload({ id: body.data.id }))
  t.equal(refire.statusCode, 202, `still 202, never 422 (${refire.body})`)
  t.same(refire.json(), { fulfilment_id: body.data.id, state: 'pending' })
  // The gauges are refreshed in the background.
  const retrying = /fp_grants_retrying\{unit="free_months"\} 1/
  await waitFor(async () => retrying.test((await app.server.inject({ method: 'GET', url: '/metrics' })).body), 5000, 'fp_grants_retrying')
  t.pass('counted as retrying in /metrics')
})

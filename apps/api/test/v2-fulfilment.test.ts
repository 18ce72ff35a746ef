import { fixture } from '@fp-webhooks/testing'
import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import t from 'tap'
import { build, fulfilmentPayload, post, startWorker, uniqueId, waitFor, sleep } from './helper.js'

const v2 = (name: string) => fixture(`v2/${name}`)

/** A v2 commission fixture for `commissionId`, with an event id of its own. */
function commissionEvent (name: string, commissionId: number) {
  const body = v2(name)
  body.event_id = `evt-${uniqueId()}`
  body.entity_id = commissionId
  body.data.id = commissionId
  return body
}

async function setup (t: { teardown: (fn: () => unknown) => void }, options: { v2Api?: boolean } = {}) {
  const fake = await startFakeFirstPromoter({ batchDelayMs: 20 })
  t.teardown(() => fake.close())
  const app = await build(t)
  const worker = await startWorker(t, app, {
    ...(options.v2Api === false
      ? {}
      : { api: { v2: { apiKey: fake.apiKey, accountId: fake.accountId, baseUrl: fake.v2Url } } }),
    v2Close: { pollIntervalMs: 20 }
  })
  const markCalls = () => fake.requests.filter((r) => r.path.endsWith('/commissions/mark_fulfilled'))
  const ledger = (commissionId: number) => app.sql`select beneficiary, unit, amount::int from ledger_entries where fulfilment_id = ${-commissionId}`
  const fulfilment = async (commissionId: number) => (await app.sql`select * from fulfilments where kind = 'v2_commission' and fp_id = ${commissionId}`)[0]
  return { fake, app, worker, markCalls, ledger, fulfilment }
}

t.test('created, then approved: one ledger row for the promoter the API names, and one mark_fulfilled call', async (t) => {
  const { fake, app, markCalls, ledger, fulfilment } = await setup(t)
  const commissionId = uniqueId()
  // The current payload has the referral and no promoter id: the grant reads the commission first.
  fake.addCommission({ id: commissionId, unit: 'points', amount: 500, status: 'pending', promoterId: 4242 })
  const created = await post(app.server, commissionEvent('commission.created.json', commissionId))
  t.equal(created.statusCode, 200, 'created: 200 once stored')
  await sleep(300)
  t.same(await ledger(commissionId), [], 'a pending commission grants nothing')
  fake.commissions.get(commissionId)!.status = 'approved'
  const approved = await post(app.server, commissionEvent('commission.updated.json', commissionId))
  t.equal(approved.statusCode, 200, 'approved: 200 once stored (v2 has no pending answer)')
  await waitFor(async () => (await fulfilment(commissionId))?.api_close === 'done', 10_000, 'the close')
  t.same(await ledger(commissionId), [{ beneficiary: 'promoter:4242', unit: 'points', amount: 500 }])
  t.equal(markCalls().length, 1, 'one mark_fulfilled call')
  t.same(markCalls()[0]!.body, { ids: [commissionId] })
  t.equal(fake.commissions.get(commissionId)!.fulfillment_status, 'fulfilled')
  const row = await fulfilment(commissionId)
  t.match(row, { id: String(-commissionId), kind: 'v2_commission', state: 'granted', unit: 'points', referral_uid: 'user_ext_id', referral_id: '55678', promoter_id: '4242' })
  t.ok(fake.requests.some((r) => r.path.endsWith('/commissions') && r.params.getAll('ids[]').includes(String(commissionId))), 'looked up with ids[]')
})

t.test('50 concurrent duplicate approvals (one event id, and several equivalent events): still one grant and one close', async (t) => {
  const { fake, app, markCalls, ledger, fulfilment } = await setup(t)
  const commissionId = uniqueId()
  fake.addCommission({ id: commissionId, unit: 'credits', amount: 30, promoterId: 77 })
  const approval = commissionEvent('commission.updated.flat-ids.json', commissionId)
  const bodies = Array.from({ length: 50 }, (_, i) => {
    if (i % 5 === 1) return commissionEvent('commission.approved.json', commissionId)
    if (i % 5 === 2) return commissionEvent('commission.updated.json', commissionId)
    return approval
  })
  for (const b of bodies) { b.data.unit = 'credits'; b.data.amount = 30 }
  const answers = await Promise.all(bodies.map((b) => post(app.server, b)))
  t.ok(answers.every((a) => a.statusCode === 200), 'every one answered 200')
  await waitFor(async () => (await fulfilment(commissionId))?.api_close === 'done', 15_000, 'the close')
  await sleep(500)
  t.equal((await ledger(commissionId)).length, 1, 'one ledger row')
  t.equal(markCalls().length, 1, 'one mark_fulfilled call')
})

t.test('denied grants nothing and closes nothing', async (t) => {
  const { fake, app, markCalls, ledger, fulfilment, worker } = await setup(t)
  const commissionId = uniqueId()
  fake.addCommission({ id: commissionId, unit: 'points', amount: 10, status: 'denied' })
  t.equal((await post(app.server, commissionEvent('commission.updated.denied.json', commissionId))).statusCode, 200)
  await waitFor(async () => (await app.sql`select count(*)::int as n from webhook_events where state = 'processed'`)[0].n === 1, 10_000, 'the event processed')
  t.same(await ledger(commissionId), [])
  t.equal(await fulfilment(commissionId), undefined, 'no fulfilment')
  t.equal(markCalls().length, 0)
  t.equal((await worker.reconcile() as any).v2.recovered, 0, 'reconciliation does not list it either')
})

t.test('reconciliation finds an approval never delivered, grants it once and closes it', async (t) => {
  const { fake, app, worker, markCalls, ledger, fulfilment } = await setup(t)
  const lost = fake.addCommission({ id: uniqueId(), unit: 'free_months', amount: 2, promoterId: 31 })
  fake.addCommission({ id: uniqueId(), unit: 'cash', amount: 1000 }) // monetary: FirstPromoter pays it
  const first = await worker.reconcile() as any
  t.match(first.v2, { recovered: 1 })
  await waitFor(async () => (await fulfilment(lost.id))?.api_close === 'done', 10_000, 'the close')
  t.same(await ledger(lost.id), [{ beneficiary: 'promoter:31', unit: 'free_months', amount: 2 }])
  // The delivery arriving late, and a second run, grant nothing more.
  await post(app.server, { ...commissionEvent('commission.updated.flat-ids.json', lost.id), data: { id: lost.id, status: 'approved', unit: 'free_months', amount: 2, promoter_id: 31 } })
  const second = await worker.reconcile() as any
  t.match(second.v2, { listed: 0 })
  await sleep(300)
  t.equal((await ledger(lost.id)).length, 1)
  t.equal(markCalls().length, 1)
})

t.test('a v2 commission id never collides with a v1 payout id', async (t) => {
  const { fake, app, ledger } = await setup(t)
  const id = uniqueId()
  fake.addCommission({ id, unit: 'points', amount: 7, promoterId: 9 })
  t.equal((await post(app.server, fulfilmentPayload({ id, unit: 'points', amount: 3 }))).statusCode, 200)
  t.equal((await post(app.server, commissionEvent('commission.updated.json', id))).statusCode, 200)
  await waitFor(async () => (await ledger(id)).length === 1, 10_000, 'the v2 grant')
  const rows = await app.sql`select fulfilment_id::text, amount::int from ledger_entries order by fulfilment_id`
  t.same(rows, [{ fulfilment_id: String(-id), amount: 7 }, { fulfilment_id: String(id), amount: 3 }], 'two grants, one per namespace')
})

t.test('more than 5 closes due: one call answered 202, the batch followed until done', async (t) => {
  const { fake, app, worker, markCalls, fulfilment } = await setup(t)
  const ids = Array.from({ length: 7 }, () => uniqueId())
  for (const id of ids) fake.addCommission({ id, unit: 'points', amount: 1, promoterId: 5 })
  // Granted while closes could not run: the next close job sends them together.
  await worker.workers[2]!.pause()
  for (const id of ids) await post(app.server, { ...commissionEvent('commission.updated.flat-ids.json', id), data: { id, status: 'approved', unit: 'points', amount: 1, promoter_id: 5 } })
  await waitFor(async () => (await app.sql`select count(*)::int as n from fulfilments where state = 'granted' and api_close = 'pending'`)[0].n === 7, 10_000, 'seven grants')
  worker.workers[2]!.resume()
  await waitFor(async () => (await Promise.all(ids.map(fulfilment))).every((f) => f.api_close === 'done'), 10_000, 'the closes')
  t.equal(markCalls().length, 1, 'one call')
  t.equal(markCalls()[0]!.status, 202, 'answered 202')
  t.ok(fake.requests.some((r) => /\/batch_processes\/[0-9]+$/.test(r.path)), 'the batch was followed')
  t.ok(ids.every((id) => fake.commissions.get(id)!.fulfillment_status === 'fulfilled'))
})

t.test('without v2 API credentials the worker says so at start', async (t) => {
  const lines: string[] = []
  const { pino } = await import('pino')
  const app = await build(t)
  await startWorker(t, app, { logger: pino({ level: 'warn' }, { write: (l: string) => { lines.push(l) } }) })
  t.ok(lines.some((l) => l.includes('FP_API_V2_KEY and FP_ACCOUNT_ID') && l.includes('never be marked fulfilled')), lines.join(''))
  // Still granted with what the payload says (no promoter id in this shape), never closed.
  const id = uniqueId()
  t.equal((await post(app.server, commissionEvent('commission.updated.json', id))).statusCode, 200)
  await waitFor(async () => (await app.sql`select state from fulfilments where id = ${-id}`)[0]?.state === 'granted', 10_000, 'the grant')
  t.same(await app.sql`select beneficiary, unit, amount::int from ledger_entries where fulfilment_id = ${-id}`, [{ beneficiary: `v2-commission:${id}`, unit: 'points', amount: 500 }])
  t.same(await app.sql`select api_close, referral_uid from fulfilments where id = ${-id}`, [{ api_close: 'not_needed', referral_uid: 'user_ext_id' }])
  // A payload without a unit cannot be granted without the API: not recorded, and a warn line says why.
  const bare = commissionEvent('commission.updated.cash.flat-ids.json', uniqueId())
  t.equal((await post(app.server, bare)).statusCode, 200)
  await waitFor(() => lines.some((l) => l.includes('v2 approval not granted yet')), 10_000, 'the warn line')
  t.equal((await app.sql`select count(*)::int as n from fulfilments where id = ${-bare.data.id}`)[0].n, 0)
})

t.test('two workers and concurrent duplicates: one grant, one close; a 429 on the close is waited out', async (t) => {
  const { fake, app, markCalls, ledger, fulfilment } = await setup(t)
  // A second worker on the same database and queues.
  await startWorker(t, app, {
    api: { v2: { apiKey: fake.apiKey, accountId: fake.accountId, baseUrl: fake.v2Url } },
    v2Close: { pollIntervalMs: 20 }
  })
  const commissionId = uniqueId()
  fake.addCommission({ id: commissionId, unit: 'free_months', amount: 1, promoterId: 12 })
  fake.failNext(1, { status: 429, retryAfter: 1, path: '/api/v2/company/commissions/mark_fulfilled' })
  const bodies = Array.from({ length: 20 }, () => ({ ...commissionEvent('commission.updated.flat-ids.json', commissionId), data: { id: commissionId, status: 'approved', unit: 'free_months', amount: 1, promoter_id: 12 } }))
  const answers = await Promise.all(bodies.map((b) => post(app.server, b)))
  t.ok(answers.every((a) => a.statusCode === 200))
  await waitFor(async () => (await fulfilment(commissionId))?.api_close === 'done', 15_000, 'the close')
  await sleep(300)
  t.equal((await ledger(commissionId)).length, 1, 'one ledger row')
  t.same(markCalls().map((r) => r.status), [429, 200], 'refused once with 429, then accepted')
})

t.test('POST /admin/reconcile with only v2 credentials: queued, and the worker reconciles v2', async (t) => {
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const app = await build(t, { env: { ADMIN_TOKEN: 'admin-token-0123456789abcdef', FP_API_V2_KEY: fake.apiKey, FP_ACCOUNT_ID: fake.accountId, FP_API_V2_URL: fake.v2Url } })
  await startWorker(t, app, {
    api: { v2: { apiKey: fake.apiKey, accountId: fake.accountId, baseUrl: fake.v2Url } },
    v2Close: { pollIntervalMs: 20 }
  })
  const lost = fake.addCommission({ id: uniqueId(), unit: 'credits', amount: 9, promoterId: 3 })
  const res = await app.server.inject({ method: 'POST', url: '/admin/reconcile', headers: { authorization: 'Bearer admin-token-0123456789abcdef' } })
  t.equal(res.statusCode, 202, res.body)
  await waitFor(async () => fake.commissions.get(lost.id)!.fulfillment_status === 'fulfilled', 10_000, 'the reconciled close')
  t.same(await app.sql`select beneficiary, amount::int from ledger_entries where fulfilment_id = ${-lost.id}`, [{ beneficiary: 'promoter:3', amount: 9 }])
  const shown = await app.server.inject({ method: 'GET', url: `/admin/fulfilments/${-lost.id}`, headers: { authorization: 'Bearer admin-token-0123456789abcdef' } })
  t.equal(shown.statusCode, 200, 'the admin API shows it under minus the commission id')
  t.match(shown.json(), { fulfilment: { kind: 'v2_commission', fpId: lost.id, state: 'granted' } })
})

import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import t from 'tap'
import { build, fulfilmentPayload, post, sleep, startWorker, waitFor } from './helper.js'

t.test('delivery → grant → ledger once → FirstPromoter closed through its API only after a 202', async (t) => {
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const app = await build(t, { env: { FP_FULFILMENT_WAIT_MS: '300' } })
  const slow = new Set<number>()
  await startWorker(t, app, {
    api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } },
    grants: { free_months: async ({ fulfilment }) => { if (slow.has(fulfilment.id)) await sleep(1200) } }
  })
  const balance = async (beneficiary: string) => (await app.sql`select coalesce(sum(amount), 0)::int as b from ledger_entries where beneficiary = ${beneficiary}`)[0].b

  // Answered 202 while the grant runs: FirstPromoter still thinks it pending, so we close it.
  const late = fulfilmentPayload({ custId: 'user_7', amount: 2 })
  fake.addPayout({ ...late.data, status: 'pending' })
  slow.add(late.data.id)
  const first = await post(app.server, late)
  t.equal(first.statusCode, 202)
  await waitFor(async () => (await app.sql`select api_close from fulfilments where id = ${late.data.id}`)[0].api_close === 'done', 15_000, 'closed on FirstPromoter')
  t.equal(await balance('cust:user_7'), 2, 'the balance rose by the amount')
  t.equal(fake.closeCalls(late.data.id).length, 1, 'exactly one close call')
  t.equal(fake.getPayout(late.data.id)?.status, 'completed')
  const refire = await post(app.server, late)
  t.equal(refire.statusCode, 200, 'a re-fire anyway gets 200')
  t.equal(await balance('cust:user_7'), 2, 'and grants nothing more')

  // Answered 200 at once: FirstPromoter closes it itself; no API call.
  const quick = fulfilmentPayload({ custId: 'user_8', amount: 3 })
  fake.addPayout({ ...quick.data, status: 'pending' })
  t.equal((await post(app.server, quick)).statusCode, 200)
  await sleep(500)
  t.equal(fake.closeCalls(quick.data.id).length, 0, 'no close call needed')
  t.equal(await balance('cust:user_8'), 3)
  t.equal((await app.sql`select api_close from fulfilments where id = ${quick.data.id}`)[0].api_close, 'not_needed')
})

import t from 'tap'
import { getBalance } from '@fp-webhooks/db'
import { grantJobId } from '@fp-webhooks/queue'
import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { fulfilment, ledgerCount, seedFulfilment, setup, sleep, startWorker, waitFor } from './helper.js'

const STORM = 50

t.test('a duplicate storm across two workers grants once', async (t) => {
  const ctx = await setup(t)
  // Two worker processes' worth: separate pools and Redis connections on one db and prefix.
  let grantCalls = 0
  // The same custom grant in both (as two processes sharing one grants module).
  // Slow enough that concurrent runs of one fulfilment overlap inside their transactions.
  const grants = { credits: async () => { grantCalls++; await sleep(100) } }
  // With API credentials: a fulfilment answered "pending" must also be closed only once.
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const api = { v1: { apiKey: fake.apiKey, baseUrl: fake.url } }
  const one = await startWorker(t, ctx, { grants, api, concurrency: { grants: 8 } })
  const two = await startWorker(t, ctx, { grants, api, concurrency: { grants: 8 } })
  const ran = new Map<string, number>([['one', 0], ['two', 0]])
  one.workers[0]!.on('completed', () => { ran.set('one', ran.get('one')! + 1) })
  two.workers[0]!.on('completed', () => { ran.set('two', ran.get('two')! + 1) })
  const f = await seedFulfilment(ctx.db, { unit: 'free_months', amount: 4, custId: 'storm_user' })
  const other = await seedFulfilment(ctx.db, { unit: 'credits', amount: 7 })
  const closing = await seedFulfilment(ctx.db, { unit: 'points', amount: 30, answeredPending: true })
  fake.addPayout({ id: closing.id, amount: 30, unit: 'points', promoter: { id: closing.promoterId!, cust_id: '', email: null } })

  // Hold both workers while the storm is queued, so the duplicates start together and race.
  await Promise.all([one, two].map((w) => w.workers[0]!.pause()))

  const jobIds: string[] = []
  const adds: Array<Promise<unknown>> = []
  for (let i = 0; i < STORM; i++) {
    const w = i % 2 === 0 ? one : two
    for (const target of [f, other, closing]) {
      if (i % 3 === 0) {
        adds.push(w.deps.enqueueGrant(target.id)) // the deterministic id: BullMQ dedupes these
      } else {
        const jobId = `storm-${target.id}-${i}` // a fresh id per add: each one really runs
        jobIds.push(jobId)
        adds.push(w.queues.grants.add('grant', { fulfilmentId: target.id }, { jobId }))
      }
    }
  }
  await Promise.all(adds)
  const queued = await one.queues.grants.getJobCounts('wait')
  t.equal(queued.wait, jobIds.length + 3, 'the deterministic ids collapsed into one job per fulfilment')
  for (const w of [one, two]) w.workers[0]!.resume()

  // The storm's ids and the three deterministic ones: count only once every job has finished.
  const allIds = [...jobIds, ...[f, other, closing].map((target) => grantJobId(target.id))]
  await waitFor(async () => {
    const states = await Promise.all(allIds.map((id) => one.queues.grants.getJobState(id)))
    return states.every((s) => s === 'completed' || s === 'failed')
  }, 20_000, 'every storm job to finish')
  const counts = await one.queues.grants.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed')
  t.equal(counts.failed, 0, 'no job failed (no deadlock, no unique-violation error)')
  t.equal(counts.completed, jobIds.length + 3, 'every distinct job ran: the storm ids plus one deterministic id per fulfilment')

  t.comment(`jobs run by worker one: ${ran.get('one')}, by worker two: ${ran.get('two')}`)
  t.ok(ran.get('one')! > 0 && ran.get('two')! > 0, 'both workers took part')

  for (const target of [f, other, closing]) {
    const row = await fulfilment(ctx.db, target.id)
    t.equal(row.state, 'granted')
    t.equal(await ledgerCount(ctx.db, target.id), 1, `exactly one ledger row for ${target.unit}`)
  }
  t.equal(await getBalance(ctx.db, 'cust:storm_user', 'free_months'), 4, 'balance == amount')
  t.equal(await getBalance(ctx.db, other.beneficiary, 'credits'), 7, 'balance == amount')
  t.equal(grantCalls, 1, 'the custom grant function ran once in all')
  const total = await ctx.sql`select count(*)::int as n, sum(amount)::int as s from ledger_entries`
  t.same({ ...total[0] }, { n: 3, s: 41 }, 'nothing else in the ledger')

  await waitFor(async () => (await fulfilment(ctx.db, closing.id)).apiClose === 'done', 10_000, 'the close')
  await sleep(200)
  t.equal(fake.closeCalls(closing.id).length, 1, 'closed on FirstPromoter exactly once')
  t.equal((await fulfilment(ctx.db, closing.id)).apiClose, 'done', 'and it stays done')
  t.equal(fake.requests.length, 1, 'no close for the fulfilments answered 200')
})

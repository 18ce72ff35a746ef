import t from 'tap'
import { pauseGrants, resumeGrants } from '@fp-webhooks/db'
import { grantJobId } from '@fp-webhooks/queue'
import { fulfilment, ledgerCount, seedFulfilment, setup, sleep, startWorker, waitFor, waitForState } from './helper.js'

t.test('a paused grant job is put back as delayed, no attempt spent, nothing granted; promoted after the resume, it grants once', async (t) => {
  const ctx = await setup(t)
  // A custom grant, so that the integrator's path is held back too, not only the ledger statement.
  let customRuns = 0
  const worker = await startWorker(t, ctx, { pauseRecheckMs: 600_000, grants: { free_months: () => { customRuns++ } } })
  await pauseGrants(ctx.db, { by: 'admin' })
  const ledger = await seedFulfilment(ctx.db, { unit: 'credits', amount: 5 })
  const custom = await seedFulfilment(ctx.db, { unit: 'free_months', amount: 1 })
  for (const f of [ledger, custom]) await worker.deps.enqueueGrant(f.id)

  const job = (id: number) => worker.queues.grants.getJob(grantJobId(id))
  for (const f of [ledger, custom]) {
    await waitFor(async () => (await (await job(f.id))?.getState()) === 'delayed', 5000, `job of ${f.id} delayed`)
    const j = await job(f.id)
    t.equal(j?.attemptsMade, 0, 'no attempt spent')
    t.ok((j?.delay ?? 0) > 500_000, 'delayed by the recheck interval')
    t.equal((await fulfilment(ctx.db, f.id)).state, 'pending')
    t.equal((await fulfilment(ctx.db, f.id)).attempts, 0)
    t.equal(await ledgerCount(ctx.db, f.id), 0)
  }
  t.equal(customRuns, 0, 'the integrator\'s grant did not run')
  t.equal(await worker.queues.grants.getFailedCount(), 0, 'no failure recorded')

  await resumeGrants(ctx.db)
  await sleep(300)
  t.equal((await fulfilment(ctx.db, ledger.id)).state, 'pending', 'a resume alone waits for the recheck…')
  for (const f of [ledger, custom]) await (await job(f.id))?.promote()
  for (const f of [ledger, custom]) {
    await waitForState(ctx.db, f.id, 'granted')
    t.equal(await ledgerCount(ctx.db, f.id), 1, '…or a promotion: granted once')
  }
  t.equal(customRuns, 1)
})

t.test('a unit paused alone holds back only that unit', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx, { pauseRecheckMs: 600_000 })
  await pauseGrants(ctx.db, { unit: 'points', by: 'admin' })
  const held = await seedFulfilment(ctx.db, { unit: 'points', amount: 5 })
  const free = await seedFulfilment(ctx.db, { unit: 'credits', amount: 5 })
  await worker.deps.enqueueGrant(held.id)
  await worker.deps.enqueueGrant(free.id)
  await waitForState(ctx.db, free.id, 'granted')
  await waitFor(async () => (await worker.queues.grants.getJobState(grantJobId(held.id))) === 'delayed', 5000, 'the points job delayed')
  t.equal(await ledgerCount(ctx.db, held.id), 0)
})

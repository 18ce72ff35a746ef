import type { ChildProcess } from 'node:child_process'
import t from 'tap'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { getBalance } from '@fp-webhooks/db'
import { GRANTS_QUEUE, GRANT_JOB_OPTIONS, JOB, grantJobId } from '@fp-webhooks/queue'
import { TEST_REDIS_URL, fulfilment, ledgerCount, seedFulfilment, setup, waitFor, waitForState } from './helper.js'
import { spawnWorker } from './worker-process.js'

t.test('a worker SIGKILLed mid-grant: the next process grants exactly once', async (t) => {
  const ctx = await setup(t)
  const live = new Set<ChildProcess>()
  t.teardown(async () => {
    for (const child of live) child.kill('SIGKILL')
  })
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
  const grants = new Queue(GRANTS_QUEUE, { connection: redis, prefix: ctx.prefix })
  t.teardown(async () => {
    await grants.close()
    await redis.quit()
  })

  const granted: number[] = []
  for (let cycle = 1; cycle <= 3; cycle++) {
    const started = Date.now()
    const blocked = spawnWorker(ctx, true, live)
    await blocked.waitForLine('ready')
    const f = await seedFulfilment(ctx.db, { unit: 'free_months', amount: cycle, custId: `crash_${cycle}` })
    await grants.add(JOB.grant, { fulfilmentId: f.id }, { ...GRANT_JOB_OPTIONS, jobId: grantJobId(f.id) })

    await blocked.waitForLine(`granting ${f.id}`)
    blocked.child.kill('SIGKILL')
    await blocked.exited
    t.equal(await ledgerCount(ctx.db, f.id), 0, `cycle ${cycle}: no ledger row after the kill`)
    t.not((await fulfilment(ctx.db, f.id)).state, 'granted', `cycle ${cycle}: not granted`)

    const next = spawnWorker(ctx, false, live)
    // The job is still "active" under the dead worker's lock; it is recovered once the lock expires.
    const row = await waitForState(ctx.db, f.id, 'granted', 15_000)
    t.equal(await ledgerCount(ctx.db, f.id), 1, `cycle ${cycle}: exactly one ledger row`)
    t.ok(row.attempts >= 2, `cycle ${cycle}: the grant was attempted again (attempts ${row.attempts})`)
    t.equal(await getBalance(ctx.db, `cust:crash_${cycle}`, 'free_months'), cycle)
    await waitFor(async () => (await grants.getJobState(grantJobId(f.id))) === 'completed', 5000, 'the recovered job to complete')

    next.child.kill('SIGTERM')
    const [code] = await next.exited as [number | null]
    t.equal(code, 0, `cycle ${cycle}: the second process shut down cleanly`)
    granted.push(f.id)
    t.comment(`cycle ${cycle} took ${Date.now() - started} ms`)
  }

  const rows = await ctx.sql`select fulfilment_id::int as id from ledger_entries order by fulfilment_id`
  t.same(rows.map((r) => r.id), [...granted].sort((a, b) => a - b), 'one ledger row per fulfilment, nothing else')
})

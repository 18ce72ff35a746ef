import t from 'tap'
import { sql } from 'drizzle-orm'
import { getBalance } from '@fp-webhooks/db'
import { captureLogs } from '@fp-webhooks/testing'
import { pino } from 'pino'
import { grantJobId } from '@fp-webhooks/queue'
import { PermanentGrantError, type GrantContext } from '../src/index.js'
import { fulfilment, ledgerCount, ledgerRows, seedFulfilment, setup, sleep, startWorker, waitFor, waitForState } from './helper.js'

t.test('the built-in ledger grant raises the beneficiary balance by the amount, once', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)

  const byPromoter = await seedFulfilment(ctx.db, { unit: 'free_months', amount: 3, custId: '' })
  const byCustomer = await seedFulfilment(ctx.db, { unit: 'credits', amount: 250, custId: 'user_42' })
  t.equal(byPromoter.beneficiary, `promoter:${byPromoter.promoterId}`)
  t.equal(byCustomer.beneficiary, 'cust:user_42')

  // Enqueued three times each: the deterministic job id makes the extra ones no-ops, and even a
  // job that ran again would find the ledger row taken.
  for (let i = 0; i < 3; i++) {
    await worker.deps.enqueueGrant(byPromoter.id)
    await worker.deps.enqueueGrant(byCustomer.id)
  }
  const a = await waitForState(ctx.db, byPromoter.id, 'granted')
  const b = await waitForState(ctx.db, byCustomer.id, 'granted')
  t.ok(a.grantedAt, 'grantedAt set')
  t.equal(a.attempts, 1)
  t.equal(b.attempts, 1)
  t.equal(b.apiClose, 'not_needed', 'nothing to close without API credentials')

  t.equal(await getBalance(ctx.db, `promoter:${byPromoter.promoterId}`, 'free_months'), 3)
  t.equal(await getBalance(ctx.db, 'cust:user_42', 'credits'), 250)
  t.equal(await getBalance(ctx.db, `promoter:${byCustomer.promoterId}`, 'credits'), 0, 'with a cust_id the promoter id is not credited')
  t.equal(await getBalance(ctx.db, 'cust:user_42', 'free_months'), 0, 'balances are per unit')

  // A job for an already granted fulfilment (another id, so BullMQ runs it) changes nothing.
  await worker.queues.grants.add('grant', { fulfilmentId: byPromoter.id }, { jobId: `again-${byPromoter.id}` })
  await waitFor(async () => (await worker.queues.grants.getJobState(`again-${byPromoter.id}`)) === 'completed', 5000, 'the repeat job')
  const byFulfilment = (x: { fulfilment_id: string }, y: { fulfilment_id: string }) =>
    Number(x.fulfilment_id) - Number(y.fulfilment_id)
  t.same((await ledgerRows(ctx)).map((r) => ({ ...r })).sort(byFulfilment), [
    { fulfilment_id: String(byPromoter.id), beneficiary: `promoter:${byPromoter.promoterId}`, unit: 'free_months', amount: '3' },
    { fulfilment_id: String(byCustomer.id), beneficiary: 'cust:user_42', unit: 'credits', amount: '250' }
  ].sort(byFulfilment), 'one ledger row per fulfilment')
  t.equal(await getBalance(ctx.db, `promoter:${byPromoter.promoterId}`, 'free_months'), 3, 'still 3')
})

t.test('a unit with no grant function and not in ledgerUnits fails permanently', async (t) => {
  const ctx = await setup(t)
  const logs = captureLogs()
  const worker = await startWorker(t, ctx, { ledgerUnits: ['free_months'], logger: pino({ level: 'info' }, logs.stream) })
  const f = await seedFulfilment(ctx.db, { unit: 'credits', amount: 10 })
  await worker.deps.enqueueGrant(f.id)

  const row = await waitForState(ctx.db, f.id, 'failed')
  t.match(row.failureReason, /"credits"/, 'the reason names the unit')
  await waitFor(() => logs.lines.some((l) => l.includes('fulfilment failed permanently')), 5000, 'the warn line')
  const line = logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'fulfilment failed permanently')
  t.match(line, { level: 40, fulfilmentId: f.id, unit: 'credits', reason: /no grant function for unit "credits"/ }, 'a human is told, at warn, with the reason')
  await waitFor(async () => (await worker.queues.grants.getJobState(grantJobId(f.id))) === 'failed', 5000, 'the job to fail')
  const job = await worker.queues.grants.getJob(grantJobId(f.id))
  t.equal(job?.attemptsMade, 1, 'not retried')
  t.match(job?.failedReason, /credits/)
  t.equal(await ledgerCount(ctx.db, f.id), 0, 'no ledger row')
})

t.test('PermanentGrantError ends the fulfilment failed with its reason, at once', async (t) => {
  const ctx = await setup(t)
  let calls = 0
  const worker = await startWorker(t, ctx, {
    grants: {
      seats: () => {
        calls++
        throw new PermanentGrantError('customer acme-9 does not exist')
      }
    }
  })
  const f = await seedFulfilment(ctx.db, { unit: 'seats', amount: 2 })
  await worker.deps.enqueueGrant(f.id)

  const row = await waitForState(ctx.db, f.id, 'failed')
  t.equal(row.failureReason, 'customer acme-9 does not exist')
  await waitFor(async () => (await worker.queues.grants.getJobState(grantJobId(f.id))) === 'failed', 5000, 'the job to fail')
  t.equal(calls, 1, 'no retry')
  t.equal(await ledgerCount(ctx.db, f.id), 0, 'the ledger row was rolled back')
  t.equal(row.grantedAt, null)
})

t.test('a transient error is retried; the grant lands once and the attempts are recorded', async (t) => {
  const ctx = await setup(t)
  let calls = 0
  const worker = await startWorker(t, ctx, {
    grants: {
      free_months: () => {
        calls++
        if (calls <= 2) throw new Error(`billing API timed out (${calls})`)
      }
    }
  })
  const f = await seedFulfilment(ctx.db, { unit: 'free_months', amount: 1 })
  await worker.queues.grants.add('grant', { fulfilmentId: f.id }, { jobId: grantJobId(f.id), attempts: 5, backoff: { type: 'fixed', delay: 50 } })

  const row = await waitForState(ctx.db, f.id, 'granted')
  t.equal(calls, 3, 'two failures, then success')
  t.equal(row.attempts, 3, 'attempts recorded on the fulfilment')
  t.equal(row.lastError, null, 'the last error is cleared by the grant')
  t.equal(await ledgerCount(ctx.db, f.id), 1)
  t.equal(await getBalance(ctx.db, f.beneficiary, 'free_months'), 1)
  await waitFor(async () => (await worker.queues.grants.getJobState(grantJobId(f.id))) === 'completed', 5000, 'the job to complete')
  const job = await worker.queues.grants.getJob(grantJobId(f.id))
  t.equal(job?.attemptsMade, 3)
})

t.test('a grant that keeps failing transiently stays pending and is retried with capped backoff, never failed', async (t) => {
  const ctx = await setup(t)
  const logs = captureLogs()
  let calls = 0
  const worker = await startWorker(t, ctx, {
    logger: pino({ level: 'info' }, logs.stream),
    // The defaults are 1 s doubling up to 1 h; shortened so that the old limit (10 attempts) passes in a moment.
    grantRetry: { delayMs: 10, maxDelayMs: 40 },
    grants: { points: () => { calls++; throw new Error('billing API unavailable') } }
  })
  const f = await seedFulfilment(ctx.db, { unit: 'points', amount: 5 })
  await worker.deps.enqueueGrant(f.id)

  await waitFor(() => calls >= 15, 15_000, () => `15 attempts (made ${calls})`)
  const row = await fulfilment(ctx.db, f.id)
  t.not(row.state, 'failed', 'not failed after more attempts than the old limit of 10')
  t.ok(row.state === 'pending' || row.state === 'granting', `still pending (${row.state})`)
  t.equal(row.failureReason, null, 'no failure reason: nothing for FirstPromoter to flag')
  t.match(row.lastError, /billing API unavailable/, 'the last error is kept for an operator')
  t.ok(row.attempts >= 15, `attempts recorded (${row.attempts})`)
  t.equal(await ledgerCount(ctx.db, f.id), 0)

  const job = await worker.queues.grants.getJob(grantJobId(f.id))
  t.ok(job, 'the job is still there')
  const state = await job!.getState()
  t.ok(['delayed', 'active', 'waiting'].includes(state), `and still scheduled (${state})`)
  t.ok(job!.delay <= 40, `the backoff is capped (${job!.delay} ms)`)
  const retries = logs.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'grant attempt failed; retrying' && l.fulfilmentId === f.id)
  t.ok(retries.length >= 15, 'a warn line per failed attempt')
  t.match(retries[0], { level: 40, unit: 'points', attempt: 1, err: { message: 'billing API unavailable' } })
  t.ok(retries.every((l) => typeof l.retryInMs === 'number' && l.retryInMs <= 40), 'each says when it is retried')
})

t.test('the built-in ledger grant failing is handled like any grant failure: last_error, warn log, retried', async (t) => {
  const ctx = await setup(t)
  // A real failure of the ledger statement: the test database refuses ledger rows for a while.
  await ctx.sql.unsafe(`create function refuse_ledger_rows() returns trigger language plpgsql as $$
    begin raise exception 'ledger_entries is read-only during maintenance'; end $$`)
  await ctx.sql.unsafe('create trigger ledger_read_only before insert on ledger_entries for each row execute function refuse_ledger_rows()')
  const logs = captureLogs()
  const worker = await startWorker(t, ctx, { logger: pino({ level: 'info' }, logs.stream), grantRetry: { delayMs: 50, maxDelayMs: 200 } })
  const f = await seedFulfilment(ctx.db, { unit: 'free_months', amount: 2 })
  await worker.deps.enqueueGrant(f.id)

  await waitFor(async () => (await fulfilment(ctx.db, f.id)).attempts >= 2, 10_000, 'two failed attempts to be recorded')
  const row = await fulfilment(ctx.db, f.id)
  t.equal(row.state, 'pending')
  t.match(row.lastError, /read-only during maintenance/, 'last_error says why')
  t.equal(await ledgerCount(ctx.db, f.id), 0)
  const warned = logs.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'grant attempt failed; retrying' && l.fulfilmentId === f.id)
  t.ok(warned.length >= 2, 'logged at warn')
  t.match(warned[0], { level: 40, unit: 'free_months', err: { message: /read-only during maintenance/ } })

  // The cause is fixed: the next retry grants, once.
  await ctx.sql.unsafe('drop trigger ledger_read_only on ledger_entries')
  const granted = await waitForState(ctx.db, f.id, 'granted')
  t.equal(granted.lastError, null)
  t.equal(await ledgerCount(ctx.db, f.id), 1)
  t.equal(await getBalance(ctx.db, f.beneficiary, 'free_months'), 2)
})

t.test('a custom grant writes its own table in the same transaction', async (t) => {
  const ctx = await setup(t)
  await ctx.sql`create table subscription_extensions (
    id serial primary key, fulfilment_id bigint not null, customer text not null, months int not null, idempotency_key text not null)`

  const seen: Array<Pick<GrantContext, 'idempotencyKey'> & { id: number }> = []
  const behaviour = new Map<number, Array<'ok' | 'transient' | 'permanent'>>()
  const worker = await startWorker(t, ctx, {
    grants: {
      subscription_months: async ({ fulfilment, tx, idempotencyKey }) => {
        seen.push({ id: fulfilment.id, idempotencyKey })
        await tx.execute(`insert into subscription_extensions (fulfilment_id, customer, months, idempotency_key)
          values (${fulfilment.id}, '${fulfilment.beneficiary}', ${fulfilment.amount}, '${idempotencyKey}')`)
        const next = behaviour.get(fulfilment.id)?.shift() ?? 'ok'
        if (next === 'transient') throw new Error('billing API 503 after the insert')
        if (next === 'permanent') throw new PermanentGrantError('plan cannot be extended')
      }
    }
  })
  const count = async (id: number) => Number((await ctx.sql`select count(*) as n from subscription_extensions where fulfilment_id = ${id}`)[0]?.n)

  // Throws after its insert, then succeeds: only the successful attempt's row survives.
  const retried = await seedFulfilment(ctx.db, { unit: 'subscription_months', amount: 6, custId: 'acct_7' })
  behaviour.set(retried.id, ['transient'])
  await worker.queues.grants.add('grant', { fulfilmentId: retried.id }, { jobId: grantJobId(retried.id), attempts: 3, backoff: { type: 'fixed', delay: 50 } })
  await waitForState(ctx.db, retried.id, 'granted')
  t.equal(await count(retried.id), 1, 'the failed attempt\'s row was rolled back with it')
  t.equal(await ledgerCount(ctx.db, retried.id), 1)
  const rows = await ctx.sql`select customer, months, idempotency_key from subscription_extensions where fulfilment_id = ${retried.id}`
  t.same(rows.map((r) => ({ ...r })), [{ customer: 'cust:acct_7', months: 6, idempotency_key: `firstpromoter-fulfilment-${retried.id}` }])
  t.same(seen.filter((s) => s.id === retried.id).map((s) => s.idempotencyKey),
    [`firstpromoter-fulfilment-${retried.id}`, `firstpromoter-fulfilment-${retried.id}`], 'the same idempotency key on every attempt')

  // Throws permanently after its insert: nothing of it remains, no partial grant.
  const refused = await seedFulfilment(ctx.db, { unit: 'subscription_months', amount: 1 })
  behaviour.set(refused.id, ['permanent'])
  await worker.deps.enqueueGrant(refused.id)
  const row = await waitForState(ctx.db, refused.id, 'failed')
  t.equal(row.failureReason, 'plan cannot be extended')
  t.equal(await count(refused.id), 0, 'its own row was rolled back')
  t.equal(await ledgerCount(ctx.db, refused.id), 0, 'and the ledger row')

  // Running the granted one again does not call the grant function again.
  const before = seen.length
  await worker.queues.grants.add('grant', { fulfilmentId: retried.id }, { jobId: `again-${retried.id}` })
  await waitFor(async () => (await worker.queues.grants.getJobState(`again-${retried.id}`)) === 'completed', 5000, 'the repeat job')
  await sleep(50)
  t.equal(seen.length, before, 'grant function not called for a granted fulfilment')
  t.equal(await count(retried.id), 1)
})

t.test('a failing grant copies no personal data into last_error, the log or the job', async (t) => {
  const ctx = await setup(t)
  // A real query failure whose parameters carry the promoter's e-mail (Drizzle repeats them in its
  // message), and an integrator error that names the customer by e-mail.
  await ctx.sql.unsafe('create table subscriptions (email text primary key check (length(email) < 5))')
  const logs = captureLogs()
  const worker = await startWorker(t, ctx, {
    logger: pino({ level: 'info' }, logs.stream),
    grantRetry: { delayMs: 50, maxDelayMs: 200 },
    grants: {
      async credits ({ fulfilment, tx }) {
        await tx.execute(sql`insert into subscriptions (email) values (${fulfilment.email})`)
      },
      async points () { throw new PermanentGrantError('no subscription for carol@example.com') }
    }
  })
  const failing = await seedFulfilment(ctx.db, { unit: 'credits', amount: 1, email: 'alice@example.com' })
  const refused = await seedFulfilment(ctx.db, { unit: 'points', amount: 1 })
  await worker.deps.enqueueGrant(failing.id)
  await worker.deps.enqueueGrant(refused.id)

  await waitFor(async () => (await fulfilment(ctx.db, failing.id)).attempts >= 1 && (await fulfilment(ctx.db, failing.id)).lastError !== null, 10_000, 'a failed attempt')
  const row = await fulfilment(ctx.db, failing.id)
  t.match(row.lastError, /check constraint/, 'last_error keeps the Postgres message')
  t.notMatch(row.lastError, /alice@example\.com/, 'last_error holds no e-mail')
  const failed = await waitForState(ctx.db, refused.id, 'failed')
  t.notMatch(failed.failureReason, /carol@example\.com/, 'failure_reason holds no e-mail')
  t.match(failed.failureReason, /no subscription for/, 'but keeps the reason')
  await waitFor(async () => (await worker.queues.grants.getJob(grantJobId(failing.id)))?.failedReason !== undefined, 5000, 'the job to record its failure')
  const job = await worker.queues.grants.getJob(grantJobId(failing.id))
  t.notMatch(`${job?.failedReason} ${(job?.stacktrace ?? []).join(' ')}`, /alice@example\.com/, 'the job stored in Redis holds no e-mail')
  t.notMatch(logs.text(), /alice@example\.com|carol@example\.com/, 'no log line holds an e-mail')
})

t.test('a grant job that names its unit grants in one statement, by the stored unit only', async (t) => {
  const ctx = await setup(t)
  const custom: number[] = []
  const worker = await startWorker(t, ctx, { grants: { points: ({ fulfilment }) => { custom.push(fulfilment.id) } } })
  const ledger = await seedFulfilment(ctx.db, { unit: 'free_months', amount: 2 })
  // The job's unit (from a delivery) disagrees with the stored one, which has its own grant function.
  const mislabelled = await seedFulfilment(ctx.db, { unit: 'points', amount: 5 })
  await worker.jobs.grant(ledger.id, { unit: 'free_months', amount: 2 })
  await worker.jobs.grant(mislabelled.id, { unit: 'credits', amount: 5 })
  const granted = await waitForState(ctx.db, ledger.id, 'granted')
  t.equal(granted.attempts, 1)
  t.equal(await getBalance(ctx.db, `promoter:${ledger.promoterId}`, 'free_months'), 2)
  await waitForState(ctx.db, mislabelled.id, 'granted')
  t.same(custom, [mislabelled.id], 'the stored unit\'s grant function ran, not the ledger the job named')
  t.equal(await ledgerCount(ctx.db, mislabelled.id), 1)

  // Asked again under another job id: nothing more.
  await worker.queues.grants.add('grant', { fulfilmentId: ledger.id, unit: 'free_months', amount: 2 }, { jobId: `again-${ledger.id}` })
  await waitFor(async () => (await worker.queues.grants.getJobState(`again-${ledger.id}`)) === 'completed', 5000, 'the repeat job')
  t.equal(await ledgerCount(ctx.db, ledger.id), 1)
  t.equal(await getBalance(ctx.db, `promoter:${ledger.promoterId}`, 'free_months'), 2, 'still 2')
})

import { randomBytes } from 'node:crypto'
import t from 'tap'
import { createDb } from '@fp-webhooks/db'
import { createBullDispatcher, grantJobId } from '@fp-webhooks/queue'
import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { TEST_PG_URL } from '@fp-webhooks/testing'
import { simulate } from '@fp-webhooks/cli'
import { TEST_REDIS_URL, cliEnv, runCli, setup, startApi, startWorker, waitFor } from './helper.js'

// Each case spawns the CLI against a real api and worker: the CLI package's 120 s budget, not the api's 60 s.
t.setTimeout(120_000)

t.test('migrate creates a missing database and its tables', async (t) => {
  const name = `fpw_cli_migrate_${randomBytes(4).toString('hex')}`
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  const admin = createDb(TEST_PG_URL, { max: 1 })
  t.teardown(async () => {
    await admin.sql.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.close()
  })

  const res = await runCli(['migrate'], { DATABASE_URL: url.toString() })
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /migrations applied/)
  const check = createDb(url.toString(), { max: 1 })
  t.teardown(() => check.close())
  const tables = await check.sql<Array<{ table_name: string }>>`select table_name from information_schema.tables where table_schema = 'public'`
  const names = tables.map((r) => r.table_name)
  for (const table of ['webhook_events', 'fulfilments', 'ledger_entries', 'quarantine']) t.ok(names.includes(table), `${table} exists`)

  const again = await runCli(['migrate'], { DATABASE_URL: url.toString() })
  t.equal(again.status, 0, 'running it again is harmless')
})

t.test('prune drops an old processed payload and keeps the ledger', async (t) => {
  const ctx = await setup(t)
  const [old] = await ctx.sql`
    insert into webhook_events (source, event_id, event_type, payload, state, received_at, processed_at)
    values ('v1', '4242', 'reward_created', '{"data":{"id":1}}'::jsonb, 'processed', now() - interval '2 days', now() - interval '2 days')
    returning id`
  // As old, but not processed yet: an unfinished event keeps its payload.
  const [recent] = await ctx.sql`
    insert into webhook_events (source, event_id, event_type, payload, state, received_at)
    values ('v1', '4243', 'reward_created', '{"data":{"id":2}}'::jsonb, 'pending', now() - interval '2 days')
    returning id`
  await ctx.sql`
    insert into fulfilments (id, unit, amount, beneficiary, promoter_id, state, updated_at, granted_at)
    values (777, 'free_months', 2, 'promoter:9', 9, 'granted', now() - interval '2 days', now() - interval '2 days')`
  await ctx.sql`insert into ledger_entries (fulfilment_id, beneficiary, promoter_id, unit, amount, granted_at)
    values (777, 'promoter:9', 9, 'free_months', 2, now() - interval '2 days')`

  const res = await runCli(['prune', '--older-than', '1s'], cliEnv(ctx))
  t.equal(res.status, 0, res.stderr)
  const report = JSON.parse(res.stdout)
  t.match(report, { olderThan: '1s', payloads: 1, quarantine: 0 })
  t.ok(Date.parse(report.before) <= Date.now() - 1000, 'cutoff one second ago')

  const rows = await ctx.sql`select id, payload, pruned_at from webhook_events order by id`
  t.same(
    rows.map((r) => [Number(r.id), r.payload === null, r.pruned_at !== null]),
    [[Number(old?.id), true, true], [Number(recent?.id), false, false]],
    'the old processed payload is nulled, the pending one kept')
  t.same(await ctx.sql`select fulfilment_id::int as f, amount::int as amount from ledger_entries`, [{ f: 777, amount: 2 }], 'the ledger row is kept')
})

t.test('prune refuses a malformed duration, naming the accepted formats', async (t) => {
  // Other malformed durations: test/args.test.ts.
  const res = await runCli(['prune', '--older-than', '5x'])
  t.equal(res.status, 1)
  t.equal(res.stdout, '')
  t.match(res.stderr, /^firstpromoter-webhooks prune: --older-than: invalid duration "5x": expected a whole number followed by d, h, m or s \(30d, 12h, 90m, 45s\)$/m)
  t.equal(res.stderr.trim().split('\n').length, 1, 'one line')
})

t.test('replay of a granted fulfilment re-runs its event and grants nothing more', async (t) => {
  const ctx = await setup(t)
  const api = await startApi(t, ctx, { FP_FULFILMENT_WAIT_MS: '5000' })
  await startWorker(t, ctx)
  const [delivery] = await simulate({ url: api.url })
  t.equal(delivery?.outcome, 'completed')
  const [event] = await ctx.sql`select id from webhook_events where event_id = ${String(delivery?.eventId)}`
  t.ok(event, 'the inbox row')
  const inboxId = Number(event?.id)
  // The grant job processed the row it carries; finished in BullMQ too.
  await waitFor(async () => (await ctx.sql`select state from webhook_events where id = ${inboxId}`)[0]?.state === 'processed' &&
    await api.server.queue.queues.grants.getJobState(grantJobId(Number(delivery?.fulfilmentId))) === 'completed', 10_000, 'the grant job to complete')

  const res = await runCli(['replay', String(inboxId)], cliEnv(ctx))
  t.equal(res.status, 0, res.stderr)
  const result = JSON.parse(res.stdout)
  t.same(result, {
    eventId: inboxId,
    eventType: 'fulfilment_pending',
    event: 'queued',
    fulfilment: { id: delivery?.fulfilmentId, state: 'granted', grant: 'not-needed' }
  })
  // The worker runs the replayed event job: the row goes pending, then processed again.
  await waitFor(async () => (await ctx.sql`select state from webhook_events where id = ${inboxId}`)[0]?.state === 'processed', 10_000, 'the replayed event to be processed')
  t.same(await ctx.sql`select fulfilment_id::text as id from ledger_entries`, [{ id: String(delivery?.fulfilmentId) }], 'still one ledger row')
})

t.test('replay of an unknown id exits 1', async (t) => {
  const ctx = await setup(t)
  const res = await runCli(['replay', '999999'], cliEnv(ctx))
  t.equal(res.status, 1)
  t.match(res.stderr, /event 999999 not found/)
  t.equal(res.stdout, '')
})

t.test('reconcile without FP_API_KEY exits 1 naming it', async (t) => {
  const ctx = await setup(t)
  const res = await runCli(['reconcile'], cliEnv(ctx))
  t.equal(res.status, 1)
  t.match(res.stderr, /FP_API_KEY/)
  t.equal(res.stderr.trim().split('\n').length, 1, 'one line')
})

t.test('reconcile records and enqueues the pending fulfilments FirstPromoter lists', async (t) => {
  const ctx = await setup(t)
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  fake.addPayout({ id: 880001, amount: 2, unit: 'free_months' })
  fake.addPayout({ id: 880002, amount: 5, unit: 'credits', promoter: { id: 31, cust_id: 'user_31', email: null } })
  fake.addPayout({ id: 880003, status: 'completed' })

  const res = await runCli(['reconcile'], cliEnv(ctx, { FP_API_KEY: fake.apiKey, FP_API_URL: fake.url }))
  t.equal(res.status, 0, res.stderr)
  t.same(JSON.parse(res.stdout), { listed: 2, recovered: 2, requeued: 0, reclosed: 0, invalid: 0 })
  const rows = await ctx.sql`select id::int as id, source, state, unit, amount::int as amount from fulfilments order by id`
  t.same(rows, [
    { id: 880001, source: 'reconcile', state: 'pending', unit: 'free_months', amount: 2 },
    { id: 880002, source: 'reconcile', state: 'pending', unit: 'credits', amount: 5 }
  ])
  t.ok(fake.requests.every((r) => r.headers['x-api-key'] === fake.apiKey), 'the key was sent')

  // The grants wait on the queue for the running worker.
  const queue = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix: ctx.prefix })
  t.teardown(() => queue.close())
  const jobs = await queue.queues.grants.getJobs(['waiting', 'prioritized', 'delayed'])
  t.same(jobs.map((j) => j.data.fulfilmentId).sort(), [880001, 880002], 'one grant job each')
})

t.test('reconcile queues again a grant whose old job failed: the grant runs', async (t) => {
  const ctx = await setup(t)
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  fake.addPayout({ id: 880011, amount: 4, unit: 'credits', promoter: { id: 41, cust_id: 'user_41', email: null } })
  let billingDown = true
  await startWorker(t, ctx, {
    grants: {
      credits: () => {
        if (!billingDown) return
        // A job that ends failed while its fulfilment is still pending (as after stalling twice).
        const err = new Error('billing API refused the connection')
        err.name = 'UnrecoverableError'
        throw err
      }
    }
  })
  const env = cliEnv(ctx, { FP_API_KEY: fake.apiKey, FP_API_URL: fake.url })
  const queue = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix: ctx.prefix })
  t.teardown(() => queue.close())

  const first = await runCli(['reconcile'], env)
  t.equal(first.status, 0, first.stderr)
  t.match(JSON.parse(first.stdout), { recovered: 1 })
  await waitFor(async () => (await queue.queues.grants.getJobState(grantJobId(880011))) === 'failed', 10_000, 'the grant job to fail')
  t.same(await ctx.sql`select state from fulfilments where id = 880011`, [{ state: 'pending' }])

  billingDown = false
  const second = await runCli(['reconcile'], env)
  t.equal(second.status, 0, second.stderr)
  t.match(JSON.parse(second.stdout), { requeued: 1 })
  await waitFor(async () => (await ctx.sql`select state from fulfilments where id = 880011`)[0].state === 'granted', 10_000, 'the requeued grant to run')
  t.same(await ctx.sql`select beneficiary, amount::int as amount from ledger_entries where fulfilment_id = 880011`, [{ beneficiary: 'cust:user_41', amount: 4 }])
})

t.test('--help prints usage', async (t) => {
  const help = await runCli(['simulate', '--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /^Usage: firstpromoter-webhooks simulate --url <webhook url>/)
  for (const option of ['--type', '--set', '--count', '--recheck-interval', '--retry-interval', '--max-rechecks', '--timeout', '--json']) {
    t.match(help.stdout, option)
  }
  const top = await runCli(['--help'])
  t.equal(top.status, 0)
  t.match(top.stdout, /migrate[\s\S]*replay[\s\S]*reconcile[\s\S]*prune[\s\S]*simulate/)

  // Other bad input runs main() in-process: test/args.test.ts.
})

t.test('simulate through the CLI: reports on stdout, exit 0 when completed, 2 otherwise', async (t) => {
  const ctx = await setup(t)
  const api = await startApi(t, ctx, { FP_FULFILMENT_WAIT_MS: '5000' })
  await startWorker(t, ctx)
  const res = await runCli(['simulate', '--url', api.url, '--set', 'data.unit=points', '--set', 'data.amount=7', '--json'])
  t.equal(res.status, 0, res.stderr)
  const lines = res.stdout.trim().split('\n')
  t.equal(lines.length, 1, 'one JSON line per delivery')
  const report = JSON.parse(lines[0]!)
  t.match(report, { delivery: 1, eventType: 'fulfilment_pending', outcome: 'completed', attempts: [{ n: 1, reason: 'first', status: 200, error: null }] })
  t.same(await ctx.sql`select unit, amount::int as amount from ledger_entries where fulfilment_id = ${report.fulfilmentId}`, [{ unit: 'points', amount: 7 }])

  const wrong = await runCli(['simulate', '--url', api.url.replace(/[^/]+$/, 'wrong-secret-0123456789abc'), '--type', 'lead_signup'])
  t.equal(wrong.status, 2, 'a failed delivery exits 2')
  t.match(wrong.stdout, /delivery 1: lead_signup event \d+ -> failed\n {2}#1 first: 404 in \d+ ms/)
  t.match(wrong.stderr, /delivery 1 #1 first: 404 in \d+ ms -> failed/)
})

t.test('reconcile with v2 credentials only: records and enqueues the approved, unfulfilled non-monetary commissions', async (t) => {
  const ctx = await setup(t)
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  fake.addCommission({ id: 990001, unit: 'points', amount: 40, promoterId: 8 })
  fake.addCommission({ id: 990002, unit: 'cash', amount: 4000 })
  fake.addCommission({ id: 990003, unit: 'points', amount: 1, status: 'pending' })
  const res = await runCli(['reconcile'], cliEnv(ctx, { FP_API_V2_KEY: fake.apiKey, FP_ACCOUNT_ID: fake.accountId, FP_API_V2_URL: fake.v2Url }))
  t.equal(res.status, 0, res.stderr)
  t.match(JSON.parse(res.stdout), { listed: 0, v2: { listed: 1, recovered: 1, skipped: 0 } })
  const rows = await ctx.sql`select id::int as id, kind, fp_id::int as fp_id, source, state, unit, amount::int as amount from fulfilments`
  t.same(rows, [{ id: -990001, kind: 'v2_commission', fp_id: 990001, source: 'reconcile', state: 'pending', unit: 'points', amount: 40 }])
  const queue = createBullDispatcher({ redisUrl: TEST_REDIS_URL, prefix: ctx.prefix })
  t.teardown(() => queue.close())
  const jobs = await queue.queues.grants.getJobs(['waiting', 'prioritized', 'delayed'])
  t.same(jobs.map((j) => j.data.fulfilmentId), [-990001], 'its grant job')
})

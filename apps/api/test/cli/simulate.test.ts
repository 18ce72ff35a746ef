import t from 'tap'
import { PermanentGrantError } from '@fp-webhooks/worker'
import { simulate, type Attempt } from '@fp-webhooks/cli'
import { SECRET, setup, sleep, startApi, startSilentServer, startWorker, waitFor } from './helper.js'

// FirstPromoter's re-checks and retries, simulated against a real api and worker: the CLI package's
// 120 s budget, not the api's 60 s.
t.setTimeout(120_000)

const statuses = (attempts: Attempt[]) => attempts.map((a) => a.status)

t.test('a slow grant: 202 first, 200 on a re-check, completed, one ledger row', async (t) => {
  const ctx = await setup(t)
  const api = await startApi(t, ctx, { FP_FULFILMENT_WAIT_MS: '200' })
  let grants = 0
  await startWorker(t, ctx, {
    grants: {
      async free_months () {
        grants++
        await sleep(1000)
      }
    }
  })

  const progress: string[] = []
  const [report, ...more] = await simulate({
    url: api.url,
    recheckIntervalMs: 500,
    onAttempt: (_r, a, next) => { progress.push(`${a.status} ${next.action}`) }
  })
  t.equal(more.length, 0, 'one delivery')
  t.ok(report)
  if (!report) return
  t.equal(report.eventType, 'fulfilment_pending')
  t.equal(report.outcome, 'completed', JSON.stringify(report.attempts))
  t.equal(report.attempts[0]?.status, 202, 'the first answer is 202: the grant is still running')
  t.equal(report.attempts.at(-1)?.status, 200, 'a re-check is answered 200 once granted')
  t.ok(report.attempts.length >= 2 && report.attempts.length <= 5, `a few attempts, got ${JSON.stringify(statuses(report.attempts))}`)
  t.same(report.attempts.slice(0, -1).map((a) => a.status), report.attempts.slice(0, -1).map(() => 202), 'only 202 before the 200')
  t.same(report.attempts.map((a) => a.reason), ['first', ...report.attempts.slice(1).map(() => 'recheck')])
  t.same(report.attempts.map((a) => a.n), report.attempts.map((_a, i) => i + 1))
  t.match(report.attempts[0]?.body, /"state":"pending"/, 'the answer body is kept')
  t.equal(progress.at(-1), '200 stop')
  t.equal(grants, 1, 'the grant function ran once')

  const rows = await ctx.sql`select fulfilment_id::text as id, unit, amount::int as amount from ledger_entries`
  t.same(rows, [{ id: String(report.fulfilmentId), unit: 'free_months', amount: 3 }], 'exactly one ledger row, for this fulfilment')
  // Every re-check repeated the same event: one inbox row.
  const events = await ctx.sql`select event_id from webhook_events`
  t.same(events.map((e) => e.event_id), [String(report.eventId)])
})

t.test('a permanently failing grant: 8 attempts of 422, then has_issues; no ledger row', async (t) => {
  const ctx = await setup(t)
  // A long wait: the failure is known within milliseconds and ends the wait at once, and the
  // first answer must not be a 202 on a busy machine.
  const api = await startApi(t, ctx, { FP_FULFILMENT_WAIT_MS: '5000' })
  await startWorker(t, ctx, {
    grants: {
      free_months () { throw new PermanentGrantError('no customer with that id') }
    }
  })
  const slept: number[] = []
  const [report] = await simulate({
    url: api.url,
    retryIntervalMs: 40,
    sleep: async (ms) => { slept.push(ms); await sleep(ms) }
  })
  t.equal(report?.outcome, 'has_issues')
  t.same(statuses(report?.attempts ?? []), [422, 422, 422, 422, 422, 422, 422, 422], 'the first attempt and 7 retries')
  t.same(report?.attempts.map((a) => a.reason), ['first', 'retry', 'retry', 'retry', 'retry', 'retry', 'retry', 'retry'])
  t.same(slept, [40, 40, 40, 40, 40, 40, 40], 'the retry interval between attempts')
  t.match(report?.attempts[0]?.body, /no customer with that id/, 'the reason is in the answer')
  t.same(await ctx.sql`select * from ledger_entries`, [], 'no ledger row')
  const [f] = await ctx.sql`select state from fulfilments where id = ${report?.fulfilmentId}`
  t.equal(f?.state, 'failed')
})

t.test('ordinary events are sent once: delivered on 200, failed on a wrong secret', async (t) => {
  const ctx = await setup(t)
  const api = await startApi(t, ctx)
  await startWorker(t, ctx)

  const ok = await simulate({ url: api.url, type: 'reward_created', count: 2 })
  t.equal(ok.length, 2)
  for (const r of ok) {
    t.equal(r.outcome, 'delivered')
    t.equal(r.eventType, 'reward_created')
    t.equal(r.fulfilmentId, null)
    t.same(statuses(r.attempts), [200], 'one attempt')
  }
  t.not(ok[0]?.eventId, ok[1]?.eventId, 'each delivery has a fresh event id')
  const rows = await ctx.sql`select event_id from webhook_events where event_type = 'reward_created' order by event_id`
  t.same(rows.map((r) => r.event_id).sort(), ok.map((r) => String(r.eventId)).sort(), 'both stored')

  const wrong = api.url.replace(SECRET, 'not-the-secret-0123456789')
  const [failed] = await simulate({ url: wrong, type: 'reward_created' })
  t.equal(failed?.outcome, 'failed')
  t.same(statuses(failed?.attempts ?? []), [404], 'one attempt, 404, never retried')
})

t.test('--set values and fresh fulfilment ids reach the receiver', async (t) => {
  const ctx = await setup(t)
  const api = await startApi(t, ctx, { FP_FULFILMENT_WAIT_MS: '5000' })
  await startWorker(t, ctx)
  const reports = await simulate({
    url: api.url,
    count: 2,
    set: [['data.unit', 'credits'], ['data.amount', 5], ['data.promoter.cust_id', 'user_42']]
  })
  t.same(reports.map((r) => r.outcome), ['completed', 'completed'])
  t.not(reports[0]?.fulfilmentId, reports[1]?.fulfilmentId, 'a fresh fulfilment id per delivery')
  const rows = await ctx.sql`select fulfilment_id::text as id, beneficiary, unit, amount::int as amount from ledger_entries order by fulfilment_id`
  t.same(rows, reports.map((r) => ({ id: String(r.fulfilmentId), beneficiary: 'cust:user_42', unit: 'credits', amount: 5 }))
    .sort((a, b) => a.id.localeCompare(b.id)))
})

t.test('a receiver that never answers: every attempt times out, then has_issues', async (t) => {
  const silent = await startSilentServer(t)
  const started = Date.now()
  const [report] = await simulate({ url: silent.url, timeoutMs: 300, retryIntervalMs: 10 })
  t.equal(report?.outcome, 'has_issues')
  t.equal(report?.attempts.length, 8)
  for (const a of report?.attempts ?? []) {
    t.equal(a.status, null)
    t.match(a.error, /^timeout after 300 ms$/)
    t.ok(a.elapsedMs >= 290, `waited the timeout (${a.elapsedMs} ms)`)
  }
  t.equal(silent.received(), 8, 'the server saw all 8 attempts')
  t.ok(Date.now() - started >= 8 * 300, 'the attempts were not cut short')
})

t.test('a refused connection counts as an error; max-rechecks ends in pending', async (t) => {
  const silent = await startSilentServer(t)
  const closedPort = silent.url.replace(/:\d+\//, ':1/')
  const [refused] = await simulate({ url: closedPort, maxRetries: 1, retryIntervalMs: 0 })
  t.equal(refused?.outcome, 'has_issues')
  t.same(refused?.attempts.map((a) => a.status), [null, null])
  t.match(refused?.attempts[0]?.error, /^connection error: /)

  // A receiver that always answers 202: re-checked max-rechecks times, then left pending.
  const fakeFetch: typeof fetch = async () => new Response('{"state":"pending"}', { status: 202 })
  const slept: number[] = []
  const [pending] = await simulate({ url: 'http://receiver.invalid/hook', maxRechecks: 2, recheckIntervalMs: 1234, fetch: fakeFetch, sleep: async (ms) => { slept.push(ms) } })
  t.equal(pending?.outcome, 'pending')
  t.same(pending?.attempts.map((a) => `${a.reason} ${a.status}`), ['first 202', 'recheck 202', 'recheck 202'])
  t.same(slept, [1234, 1234])

  // Any other 2xx is pending too; only exactly 200 completes.
  const answers = [204, 201, 200]
  const [completed] = await simulate({ url: 'http://receiver.invalid/hook', fetch: async () => new Response(null, { status: answers.shift() ?? 500 }), sleep: async () => {} })
  t.equal(completed?.outcome, 'completed')
  t.same(completed?.attempts.map((a) => a.status), [204, 201, 200])
})

t.test('invalid options are refused before anything is sent', async (t) => {
  let sent = 0
  const fetchSpy: typeof fetch = async () => { sent++; return new Response('', { status: 200 }) }
  await t.rejects(simulate({ url: 'not a url', fetch: fetchSpy }), /url must be an absolute/)
  await t.rejects(simulate({ url: 'ftp://x/y', fetch: fetchSpy }), /http or https/)
  await t.rejects(simulate({ url: 'http://x/y', type: 'lead_exploded', fetch: fetchSpy }), /unknown event type "lead_exploded"/)
  await t.rejects(simulate({ url: 'http://x/y', count: 0, fetch: fetchSpy }), /count must be an integer >= 1/)
  await t.rejects(simulate({ url: 'http://x/y', set: [['data.amount.x', 1]], fetch: fetchSpy }), /data.amount is a number/)
  t.equal(sent, 0)
})

t.test('v2: a commission created then approved, with the subscription\'s headers; one grant', async (t) => {
  const ctx = await setup(t)
  const api = await startApi(t, ctx, { FP_V2_AUTH_HEADER: 'authorization', FP_V2_AUTH_VALUES: 'Bearer sim-token-0123456789' })
  await startWorker(t, ctx)
  const id = 880_000_000 + Math.floor(Math.random() * 1_000_000)
  // The flat shape names the promoter and the unit: no API lookup needed.
  const set: Array<[string, unknown]> = [['data.id', id], ['entity_id', id], ['data.promoter_id', 12345], ['data.referral', null]]
  const headers = { authorization: 'Bearer sim-token-0123456789' }
  const [created] = await simulate({ url: api.url, type: 'commission.created', set, headers })
  const [approved] = await simulate({ url: api.url, type: 'commission.updated', set, headers })
  t.equal(created?.outcome, 'delivered', JSON.stringify(created?.attempts))
  t.equal(approved?.outcome, 'delivered', JSON.stringify(approved?.attempts))
  t.equal(approved?.fulfilmentId, id)
  t.same(statuses(approved?.attempts ?? []), [200])
  t.match(String(approved?.eventId), /^[0-9a-f-]{36}$/, 'a fresh UUID event id')
  await waitFor(async () => (await ctx.sql`select count(*)::int as n from ledger_entries where fulfilment_id = ${-id}`)[0]?.n === 1, 10_000, 'the v2 grant')
  const events = await ctx.sql`select event_type from webhook_events where source = 'v2' order by id`
  t.same(events.map((e) => e.event_type), ['commission.created', 'commission.updated'])
})

t.test('v2: refused deliveries are retried on v2\'s doubling schedule, then failed', async (t) => {
  const ctx = await setup(t)
  const api = await startApi(t, ctx, { FP_V2_BASIC_AUTH: 'fp:right-password-0123' })
  const slept: number[] = []
  const [wrong] = await simulate({ url: api.url, type: 'promoter.created', basicAuth: 'fp:wrong', maxRetries: 4, sleep: async (ms) => { slept.push(ms) } })
  t.equal(wrong?.outcome, 'failed')
  t.same(statuses(wrong?.attempts ?? []), [404, 404, 404, 404, 404], 'the first attempt and 4 retries')
  t.same(slept, [120_000, 240_000, 480_000, 960_000], '2, 4, 8, 16 minutes')
  const [right] = await simulate({ url: api.url, type: 'promoter.created', basicAuth: 'fp:right-password-0123' })
  t.equal(right?.outcome, 'delivered')
  t.equal(right?.attempts.length, 1)
  // Ten retries by default, the last waits 8.5 h.
  const slept10: number[] = []
  const [ten] = await simulate({ url: api.url, type: 'referral.created', sleep: async (ms) => { slept10.push(ms) } })
  t.equal(ten?.attempts.length, 11)
  t.equal(slept10.at(-1), 120_000 * 256)
})

import t from 'tap'
import { Job } from 'bullmq'
import { createPostgresStore, getEvent, resetEvent, type Db } from '@fp-webhooks/db'
import { JOB, eventJobId } from '@fp-webhooks/queue'
import { v1Delivery, type V1Envelope } from 'fastify-firstpromoter'
import { createHandlers, type AnyFirstPromoterEvent } from '../src/index.js'
import { fixture, setup, startWorker, uniqueId, waitFor, type TestContext } from './helper.js'

const LEAD_ID = 21381518
const PROMOTER_ID = 3920164
const TYPES = ['lead_signup', 'lead_becomes_referral', 'reward_created', 'lead_cancelled'] as const
type Envelope = { event: { id: number, type: string, created_at: string }, data: Record<string, any> }

/**
 * One lead's life, built from the fixtures: increasing event ids and times, one promoter in every
 * event, and promoter data that differs per event, so that a stale event winning would show.
 */
function leadLife (): Envelope[] {
  const firstId = uniqueId() * 10
  const start = Date.parse('2024-10-03T13:45:20.103Z')
  return TYPES.map((type, i) => {
    const env = fixture<Envelope>(`${type}.json`)
    env.event.id = firstId + i
    env.event.created_at = new Date(start + i * 60_000).toISOString()
    const promoter = env.data.promoter
    promoter.id = PROMOTER_ID
    promoter.email = `promoter+${i}@example.com`
    promoter.earnings_balance = { cash: 1000 * (i + 1) }
    promoter.current_balance = { cash: 100 * (i + 1) }
    if (type === 'reward_created') {
      env.data.promotion.promoter_id = PROMOTER_ID
      env.data.lead.id = LEAD_ID
    } else {
      env.data.id = LEAD_ID
    }
    return env
  })
}

/** A tiny seeded PRNG (mulberry32), so a failing order can be replayed from the printed seed. */
function prng (seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let r = Math.imul(a ^ (a >>> 15), 1 | a)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

function shuffled<T> (items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

async function record (db: Db, env: Envelope): Promise<number> {
  const result = await createPostgresStore(db).record(v1Delivery(env as unknown as V1Envelope))
  if (result.inboxId === null) throw new Error(`event ${env.event.id} was a duplicate`)
  return result.inboxId
}

/** The projection tables, minus `updated_at` (the only column that records when, not what). */
async function snapshot (ctx: TestContext) {
  const strip = (rows: readonly Record<string, unknown>[]) =>
    rows.map(({ updated_at: _u, ...rest }) => JSON.parse(JSON.stringify(rest)))
  return {
    leads: strip(await ctx.sql`select * from leads order by id`),
    promoters: strip(await ctx.sql`select * from promoters order by id`),
    rewards: strip(await ctx.sql`select * from rewards order by id`)
  }
}

async function waitProcessed (ctx: TestContext, inboxIds: number[]) {
  let rows: Array<{ id: string, event_type: string, state: string, last_error: string | null }> = []
  await waitFor(async () => {
    rows = await ctx.sql`select id::text, event_type, state, last_error from webhook_events where id = any(${inboxIds}) order by id`
    return rows.length === inboxIds.length && rows.every((r) => r.state === 'processed')
  }, 10_000, () => `inbox rows to be processed: ${JSON.stringify(rows)}`)
}

t.test('projections end identical whatever the order, and on replay', async (t) => {
  const seed = Number(process.env.PROJECTION_SEED ?? Math.floor(Math.random() * 2 ** 31))
  t.comment(`shuffle seed ${seed} (rerun with PROJECTION_SEED=${seed})`)
  const random = prng(seed)

  const ctx = await setup(t)
  const seen: string[] = []
  const handlers = createHandlers().onAny((event) => { seen.push(event.type) })
  // One event at a time, in queue order: the order given is the order applied.
  const worker = await startWorker(t, ctx, { handlers, concurrency: { events: 1 } })
  const events = leadLife()
  let replays = 0

  async function run (order: readonly number[], replay: boolean) {
    // Plain truncate keeps the inbox id sequence going, so job ids (event-<inboxId>) stay fresh.
    await ctx.sql`truncate leads, promoters, rewards, webhook_events`
    seen.length = 0
    const ids: number[] = []
    for (const i of order) ids.push(await record(ctx.db, events[i]!))
    for (const [k, i] of order.entries()) await worker.deps.enqueueEvent(ids[k]!, events[i]!.event.type)
    await waitProcessed(ctx, ids)
    t.same(seen, order.map((i) => TYPES[i]), `applied in the order ${order.join(',')}`)
    if (replay) {
      // Each event processed a second time (as an operator's replay does), in another order.
      for (const id of shuffled(ids, random)) {
        await resetEvent(ctx.db, id)
        await worker.queues.events.add(JOB.event, { inboxId: id, eventType: 'replay' }, { jobId: `replay-${++replays}` })
      }
      await waitFor(() => seen.length === 2 * order.length, 10_000, 'the replays')
      await waitProcessed(ctx, ids)
    }
    return snapshot(ctx)
  }

  const inOrder = await run([0, 1, 2, 3], false)

  // What the newest event says, and the earliest first payment.
  // Through drizzle's postgres-js driver timestamps come back as Postgres text: normalise them.
  const iso = (v: unknown) => (typeof v === 'string' ? new Date(v).toISOString() : v)
  const lead = Object.fromEntries(Object.entries(inOrder.leads[0] ?? {}).map(([k, v]) => [k, k.endsWith('_at') ? iso(v) : v]))
  t.equal(inOrder.leads.length, 1)
  t.match(lead, {
    id: String(LEAD_ID),
    state: 'cancelled',
    email: 'customer@example.com',
    promoter_id: String(PROMOTER_ID),
    cancelled_at: '2024-10-04T09:15:41.998Z',
    first_payment_at: '2024-10-03T14:23:20.495Z',
    source_event_id: String(events[3]!.event.id),
    source_at: events[3]!.event.created_at
  }, 'the lead holds the cancellation')
  t.same(inOrder.promoters.map((p) => [p.id, p.email, p.earnings_balance, p.source_event_id]),
    [[String(PROMOTER_ID), 'promoter+3@example.com', { cash: 4000 }, String(events[3]!.event.id)]], 'the promoter holds its newest event')
  t.match(inOrder.rewards, [{ id: '11174868', status: 'approved', amount: '200', unit: 'cash', promoter_id: String(PROMOTER_ID), lead_id: String(LEAD_ID) }])

  const orders: number[][] = [[3, 2, 1, 0]]
  for (let n = 0; n < 5; n++) orders.push(shuffled([0, 1, 2, 3], random))
  for (const order of orders) {
    t.same(await run(order, true), inOrder, `order ${order.join(',')} then a replay of each event: same rows`)
  }
  t.same(await run([0, 1, 2, 3], true), inOrder, 'in order, then replayed: same rows')
})

t.test('typed handlers run once per processed event, with the stored data', async (t) => {
  const ctx = await setup(t)
  const calls: Array<{ handler: string, event: AnyFirstPromoterEvent }> = []
  let rewardFailures = 0
  const handlers = createHandlers()
    .on('lead_signup', (event) => { calls.push({ handler: 'lead_signup', event }) })
    // Registered under the other name of the same fact: runs for lead_becomes_referral.
    .on('new_customer', (event) => { calls.push({ handler: 'new_customer', event }) })
    .on('reward_created', (event) => {
      calls.push({ handler: 'reward_created', event })
      if (rewardFailures++ === 0) throw new Error('CRM unavailable')
    })
    .onAny((event) => { calls.push({ handler: '*', event }) })
  const worker = await startWorker(t, ctx, { handlers })

  const events = leadLife()
  const ids: number[] = []
  for (const env of events) {
    const id = await record(ctx.db, env)
    ids.push(id)
    await worker.deps.enqueueEvent(id, env.event.type)
  }
  // The reward's first attempt fails; the job's backoff (1 s) then runs it again.
  await waitProcessed(ctx, ids)

  const count = (handler: string, type?: string) =>
    calls.filter((c) => c.handler === handler && (type === undefined || c.event.type === type)).length
  t.equal(count('lead_signup'), 1, 'lead_signup handler once')
  t.equal(count('new_customer'), 1, 'the new_customer handler ran once…')
  t.equal(count('new_customer', 'lead_becomes_referral'), 1, '…for lead_becomes_referral')
  t.equal(count('reward_created'), 2, 'the throwing handler ran again')
  t.equal(count('*'), 4, 'the catch-all saw each event once (it comes after the thrower)')
  t.same(calls.filter((c) => c.handler === '*').map((c) => c.event.type).sort(), [...TYPES].sort())

  for (const [k, env] of events.entries()) {
    const stored = await getEvent(ctx.db, ids[k]!)
    const c = calls.find((c) => c.handler === '*' && c.event.inboxId === ids[k])
    t.same(c?.event.data, (stored?.payload as { data: unknown }).data, `${env.event.type}: the handler got the stored data`)
    t.strictSame(c && { ...c.event, data: undefined }, {
      id: String(env.event.id),
      type: env.event.type,
      source: 'v1',
      known: true,
      createdAt: new Date(env.event.created_at),
      inboxId: ids[k],
      data: undefined
    }, 'one event object: id, type, source, createdAt, inboxId, data')
  }
  const lead = calls.find((c) => c.handler === 'lead_signup')!
  t.equal((lead.event.data as { email: string }).email, 'goqucugo@mailinator.com')

  const reward = await getEvent(ctx.db, ids[2]!)
  t.equal(reward?.state, 'processed', 'the retried event ended processed')
  t.equal(reward?.attempts, 2)
  t.equal(reward?.lastError, null, 'its error cleared')
  const job = await Job.fromId(worker.queues.events, eventJobId(ids[2]!))
  t.equal(job?.attemptsMade, 2, 'the job was retried once')
  const rewards = await ctx.sql`select id::int from rewards`
  t.same(rewards.map((r) => r.id), [11174868], 'the projection is in place once')

  // A processed event enqueued again is skipped: handlers do not run twice.
  const before = calls.length
  await worker.queues.events.add(JOB.event, { inboxId: ids[0]!, eventType: 'lead_signup' }, { jobId: `again-${ids[0]}` })
  await waitFor(async () => (await worker.queues.events.getJobState(`again-${ids[0]}`)) === 'completed', 5000, 'the repeat job')
  t.equal(calls.length, before, 'no handler ran for an already processed event')
})

t.test('promoter_accepted records the campaign, newest acceptance wins', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  const accepted = (campaignId: number, minutes: number) => {
    const env = fixture<Envelope>('promoter_accepted.json')
    env.event.id = uniqueId()
    env.event.created_at = new Date(Date.parse('2024-10-03T11:57:31.228Z') + minutes * 60_000).toISOString()
    env.data.promoter.id = PROMOTER_ID
    env.data.campaign.id = campaignId
    return env
  }
  // The newer acceptance arrives first; the older one must not take its place.
  const ids: number[] = []
  for (const env of [accepted(777, 10), accepted(13202, 0)]) {
    const id = await record(ctx.db, env)
    ids.push(id)
    await worker.deps.enqueueEvent(id, env.event.type)
    await waitProcessed(ctx, [id])
  }
  const rows = await ctx.sql`select campaign_id::int, accepted_at, accepted_event_id::text from promoters where id = ${PROMOTER_ID}`
  t.equal(rows.length, 1)
  t.equal(rows[0]?.campaign_id, 777, 'the newest acceptance\'s campaign')
  t.equal(new Date(rows[0]?.accepted_at as string).toISOString(), '2024-10-03T12:07:31.228Z')
})

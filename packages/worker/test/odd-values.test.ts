import t from 'tap'
import type { Job } from 'bullmq'
import { captureLogs } from '@fp-webhooks/testing'
import { createPostgresStore, getEvent, type Db } from '@fp-webhooks/db'
import type { EventJobData } from '@fp-webhooks/queue'
import { v1Delivery, type V1Envelope } from 'fastify-firstpromoter'
import { createHandlers } from '../src/index.js'
import { pino } from 'pino'
import { processEvent } from '../src/processors/event.js'
import { fixture, setup, startWorker, uniqueId, waitFor } from './helper.js'

type Envelope = { event: { id: number, type: string, created_at: unknown }, data: Record<string, any> }

async function record (db: Db, env: Envelope): Promise<number> {
  const result = await createPostgresStore(db).record(v1Delivery(env as unknown as V1Envelope))
  return result.inboxId!
}

t.test('values no column can hold never fail a projection: stored as null, noted without personal data, handlers run', async (t) => {
  const ctx = await setup(t)
  const logs = captureLogs()
  const handled: string[] = []
  const handlers = createHandlers().onAny((event) => { handled.push(event.type) })
  const worker = await startWorker(t, ctx, { handlers, logger: pino({ level: 'info', name: 'worker' }, logs.stream) })

  const lead = fixture<Envelope>('lead_becomes_referral.json')
  lead.event.id = uniqueId()
  lead.data.id = uniqueId()
  lead.data.customer_since = '0000-01-01T00:00:00Z'
  lead.data.created_at = '+275760-09-13T00:00:00Z'
  lead.data.cancelled_at = '-000001-01-01T00:00:00Z'
  lead.data.promoter.id = uniqueId()
  lead.data.promoter.created_at = '+010000-01-01T00:00:00Z'

  const reward = fixture<Envelope>('reward_created.json')
  reward.event.id = uniqueId()
  reward.data.id = uniqueId()
  reward.data.amount = 1e20
  reward.data.tier_level = 1e10
  reward.data.conversion_amount = -1e20
  reward.data.created_at = '0000-01-01T00:00:00Z'
  reward.data.promoter.id = uniqueId()
  reward.data.lead.id = uniqueId()
  reward.data.lead.customer_since = '+275760-09-13T00:00:00Z'

  const ids = [await record(ctx.db, lead), await record(ctx.db, reward)]
  for (const [k, env] of [lead, reward].entries()) await worker.deps.enqueueEvent(ids[k]!, env.event.type)
  let rows: any[] = []
  await waitFor(async () => {
    rows = await ctx.sql`select id::int, state, attempts, last_error from webhook_events where id = any(${ids}) order by id`
    return rows.every((r) => r.state !== 'pending')
  }, 10_000, () => `the events to be processed: ${JSON.stringify(rows)}`)
  t.same(rows.map((r) => [r.state, r.attempts, r.last_error]), [['processed', 1, null], ['processed', 1, null]], 'each processed at the first attempt')
  t.same(handled.sort(), ['lead_becomes_referral', 'reward_created'], "the integrator's handlers ran")

  const [l] = await ctx.sql`select email, customer_since, fp_created_at, cancelled_at, first_payment_at from leads where id = ${lead.data.id}`
  t.same(l, { email: lead.data.email, customer_since: null, fp_created_at: null, cancelled_at: null, first_payment_at: null }, 'the lead kept, its times left out')
  const [p] = await ctx.sql`select email, fp_created_at from promoters where id = ${lead.data.promoter.id}`
  t.same(p, { email: lead.data.promoter.email, fp_created_at: null })
  const [r] = await ctx.sql`select status, amount, tier_level, conversion_amount, fp_created_at from rewards where id = ${reward.data.id}`
  t.same(r, { status: reward.data.status, amount: null, tier_level: null, conversion_amount: null, fp_created_at: null }, 'the reward kept, its numbers left out')
  const [rl] = await ctx.sql`select customer_since from leads where id = ${reward.data.lead.id}`
  t.same(rl, { customer_since: null }, 'the nested lead too')

  const notes = logs.lines.filter((line) => line.includes('stored as null')).map((line) => JSON.parse(line))
  t.equal(notes.length, 2, 'one note per event')
  t.ok(notes.every((n) => n.level === 40), 'at warn')
  const columns = notes.flatMap((n) => n.columns as string[]).map((c) => c.split(':')[0]).sort()
  t.same(columns, ['leads.cancelled_at', 'leads.customer_since', 'leads.customer_since', 'leads.first_payment_at', 'leads.fp_created_at', 'promoters.fp_created_at',
    'rewards.amount', 'rewards.conversion_amount', 'rewards.fp_created_at', 'rewards.tier_level'].sort(), 'each column left out is named')
  for (const email of [lead.data.email, lead.data.promoter.email, reward.data.promoter.email]) {
    t.notMatch(logs.text(), email, `no e-mail address in the logs (${email})`)
  }
})

t.test('a projection that fails keeps the Postgres code and message, never the query parameters', async (t) => {
  const ctx = await setup(t)
  const logs = captureLogs()
  const worker = await startWorker(t, ctx, { logger: pino({ level: 'info', name: 'worker' }, logs.stream) })
  // A real failure in the projection's own insert: the lead's address is refused by a constraint.
  await ctx.sql`alter table leads add constraint leads_email_blocked check (email not like '%@blocked.example')`
  const lead = fixture<Envelope>('lead_signup.json')
  lead.event.id = uniqueId()
  lead.data.id = uniqueId()
  lead.data.email = 'someone@blocked.example'
  const inboxId = await record(ctx.db, lead)
  const job = { data: { inboxId, eventType: 'lead_signup' }, attemptsMade: 0, opts: { attempts: 1 } } as unknown as Job<EventJobData>

  const thrown = await processEvent(job, worker.deps).then(() => null, (err: Error) => err)
  t.ok(thrown, 'the attempt fails')
  t.notMatch(thrown?.message, /blocked\.example|params:/, 'the error BullMQ keeps (failedReason) holds no parameters either')
  const event = await getEvent(ctx.db, inboxId)
  t.equal(event?.state, 'failed', 'its last attempt: failed')
  t.match(event?.lastError, /leads_email_blocked/, 'last_error has the Postgres message')
  t.match(event?.lastError, /23514/, 'and its code')
  t.notMatch(event?.lastError, /blocked\.example|Failed query|params:/, 'but neither the parameters nor the query')
  t.notMatch(event?.lastError, lead.data.promoter.email, 'nor any other address')
  t.notMatch(logs.text(), /blocked\.example|params:/, 'no log line holds them either')
  t.match(logs.text(), /leads_email_blocked/, 'the log line has the reason')
})

import t from 'tap'
import { createPostgresStore, type Db } from '@fp-webhooks/db'
import { v1Delivery, type Delivery, type V1Envelope, type V2WebhookEnvelope } from 'fastify-firstpromoter'
import { fixture, setup, startWorker, uniqueId, waitFor, type TestContext } from './helper.js'

const v2 = (name: string): any => fixture(`v2/${name}`)

/** What the plugin stores for a v2 body. */
const v2Delivery = (envelope: V2WebhookEnvelope): Delivery => ({
  source: 'v2',
  eventId: envelope.event_id,
  eventType: envelope.event_type,
  eventCreatedAt: typeof envelope.timestamp === 'string' ? new Date(envelope.timestamp) : null,
  dedupeKey: null,
  payload: envelope
})

async function record (db: Db, delivery: Delivery): Promise<number> {
  const result = await createPostgresStore(db).record(delivery)
  if (result.inboxId === null) throw new Error(`event ${delivery.eventId} was a duplicate`)
  return result.inboxId
}

async function processAll (ctx: TestContext, worker: Awaited<ReturnType<typeof startWorker>>, ids: number[]) {
  for (const id of ids) await worker.deps.enqueueEvent(id, 'v2')
  await waitFor(async () => {
    const rows = await ctx.sql`select state from webhook_events where id = any(${ids})`
    return rows.length === ids.length && rows.every((r) => r.state === 'processed')
  }, 10_000, 'the events processed')
}

/** One entity's v2 life: each event a minute after the last, with its own event id. */
function life (names: string[], entityId: number, mutate: (body: any, i: number) => void = () => {}) {
  const start = Date.parse('2025-01-15T10:00:00Z')
  return names.map((name, i) => {
    const body = v2(name)
    body.event_id = `evt-${uniqueId()}`
    body.entity_id = entityId
    body.data.id = entityId
    body.timestamp = new Date(start + i * 60_000).toISOString()
    mutate(body, i)
    return body as V2WebhookEnvelope
  })
}

const ORDERS = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]]

t.test('v2 promoter, referral, commission and payout events end in the newest state whatever the order', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx, { concurrency: { events: 1 } })
  const snapshots: unknown[] = []
  for (const order of ORDERS) {
    await ctx.sql`truncate promoters, leads, rewards, payouts, webhook_events`
    const promoterId = 12345
    const promoter = life(['promoter.created.json', 'promoter.updated.json', 'promoter.updated.json'], promoterId, (b, i) => { b.data.email = `jane+${i}@example.com` })
    const referral = life(['referral.created.json', 'referral.updated.json', 'referral.updated.before-2026-04.json'], 55678)
    const commission = life(['commission.created.json', 'commission.updated.json', 'commission.updated.denied.json'], 88901)
    const payout = life(['payout.created.json', 'payout.updated.completed.json', 'payout.updated.completed.json'], 73001, (b, i) => { if (i === 2) b.data.status = 'failed' })
    const ids: number[] = []
    for (const i of order) {
      for (const entity of [promoter, referral, commission, payout]) {
        ids.push(await record(ctx.db, v2Delivery(entity[i]!)))
      }
    }
    await processAll(ctx, worker, ids)
    const strip = (rows: readonly Record<string, unknown>[]) =>
      rows.map(({ updated_at: _u, source_event_id: _s, ...rest }) => JSON.parse(JSON.stringify(rest)))
    const snap = {
      promoters: strip(await ctx.sql`select * from promoters`),
      leads: strip(await ctx.sql`select * from leads`),
      rewards: strip(await ctx.sql`select * from rewards`),
      payouts: strip(await ctx.sql`select * from payouts`)
    }
    t.equal(snap.promoters[0]?.email, 'jane+2@example.com', `order ${order}: the newest promoter`)
    t.equal(snap.rewards[0]?.status, commission[2]!.data.status, `order ${order}: the newest commission status`)
    t.equal(snap.payouts[0]?.status, 'failed', `order ${order}: the newest payout status`)
    t.equal(snap.leads.length, 1)
    snapshots.push(snap)
  }
  for (const s of snapshots.slice(1)) t.same(s, snapshots[0], 'the same rows whatever the order')
})

t.test('an account moving from v1 to v2: one promoter row, v2 wins once newer, an older v1 event never goes back', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx, { concurrency: { events: 1 } })
  const promoterId = uniqueId()
  const v1 = fixture<any>('promoter_accepted.json')
  v1.event.id = uniqueId()
  v1.event.created_at = '2025-01-10T00:00:00.000Z'
  v1.data.promoter.id = promoterId
  v1.data.promoter.email = 'v1@example.com'
  const [later] = life(['promoter.updated.json'], promoterId, (b) => { b.data.email = 'v2@example.com'; b.timestamp = '2025-02-01T00:00:00.000Z' })
  const v1Late = structuredClone(v1)
  v1Late.event.id = uniqueId()
  v1Late.event.created_at = '2025-01-20T00:00:00.000Z'
  v1Late.data.promoter.email = 'stale@example.com'
  const store = createPostgresStore(ctx.db)
  const first = (await store.record(v1Delivery(v1 as V1Envelope))).inboxId!
  await processAll(ctx, worker, [first])
  const second = await record(ctx.db, v2Delivery(later!))
  await processAll(ctx, worker, [second])
  const third = (await store.record(v1Delivery(v1Late as V1Envelope))).inboxId!
  await processAll(ctx, worker, [third])
  const rows = await ctx.sql`select id::text, email from promoters`
  t.same(rows, [{ id: String(promoterId), email: 'v2@example.com' }])
})

t.test('a v2 test delivery and an unknown v2 type project nothing', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  const unknown = v2('unknown-type.json')
  unknown.event_id = `evt-${uniqueId()}`
  const id = await record(ctx.db, v2Delivery(unknown))
  await processAll(ctx, worker, [id])
  const n = await ctx.sql`select (select count(*) from promoters) + (select count(*) from leads) + (select count(*) from rewards) + (select count(*) from payouts) as n`
  t.equal(Number(n[0]!.n), 0)
})

import type { FulfilmentWorker } from '@fp-webhooks/worker'
import t from 'tap'
import { fixture, type Json } from './helpers/payloads.js'
import { createRng, type Rng } from './helpers/random.js'
import { ADMIN_TOKEN, createEnv, inject, is2xx, sleep, startApi, startWorker, waitFor, type Answer, type ChaosEnv, type Row } from './helpers/stack.js'

const PROMOTERS = 4
const LEADS = 6
const REWARDS = 4
const SHUFFLED_RUNS = 2

interface Built { events: Json[], counts: { promoters: number, leads: number, rewards: number } }

/**
 * Several promoters, leads and rewards, each described by 3–5 events with distinct `created_at`;
 * promoters are also described by the snapshots nested in lead and reward events.
 */
function buildEvents (rng: Rng): Built {
  const base = Date.parse('2025-03-01T00:00:00.000Z')
  let eventId = 50_000_000 + rng.int(0, 1_000_000) * 10
  const times = new Set<number>()
  const at = () => {
    let ms: number
    do { ms = base + rng.int(0, 30 * 24 * 3600) * 1000 + rng.int(0, 999) } while (times.has(ms))
    times.add(ms)
    return new Date(ms).toISOString()
  }
  const envelope = (type: string, data: Json) => ({ event: { id: ++eventId, type, created_at: at() }, data })

  const promoterIds = Array.from({ length: PROMOTERS }, (_, i) => 7_000_000 + i)
  const template = fixture('lead_signup').data.promoter
  const promoterSnapshot = (id: number): Json => ({
    ...structuredClone(template),
    id,
    status: rng.pick(['pending', 'active', 'blocked']),
    cust_id: rng.pick(['', `cust_${id}`, `cust_${id}_${rng.int(1, 9)}`]),
    email: `p${id}.${rng.int(1, 99)}@example.com`,
    parent_promoter_id: rng.chance(0.3) ? rng.pick(promoterIds) : null,
    default_ref_id: `ref${rng.string(5)}`,
    earnings_balance: rng.chance(0.2) ? null : { cash: rng.int(-500, 90_000), free_months: rng.int(0, 6) },
    current_balance: rng.chance(0.2) ? null : { cash: rng.int(-500, 50_000) },
    paid_balance: rng.chance(0.5) ? null : { cash: rng.int(0, 40_000) },
    profile: { ...structuredClone(template.profile), first_name: rng.pick(['Jane', 'Ann', 'Bo']), country: rng.pick(['US', 'DE', 'FR']) }
  })

  const events: Json[] = []
  for (const id of promoterIds) {
    const n = rng.int(3, 5)
    for (let k = 0; k < n; k++) {
      if (rng.chance(0.5)) {
        const body = fixture('promoter_accepted')
        body.data.promoter = promoterSnapshot(id)
        body.data.campaign.id = rng.pick([13202, 13203, 13204])
        body.data.promotion.promoter_id = id
        events.push(envelope(rng.pick(['promoter_accepted']), body.data))
      } else {
        events.push(envelope(rng.pick(['promoter_signed_up', 'promoter_signs_up']), { promoter: promoterSnapshot(id), promotions: [] }))
      }
    }
  }

  const leadIds = Array.from({ length: LEADS }, (_, i) => 8_000_000 + i)
  const leadTemplate = fixture('lead_signup').data
  const leadSnapshot = (id: number, state: string): Json => {
    const promoter = rng.pick(promoterIds)
    return {
      ...structuredClone(leadTemplate),
      id,
      state,
      email: `lead${id}.${rng.int(1, 99)}@example.com`,
      uid: rng.pick(['', `user_${id}`]),
      plan_name: rng.pick([null, 'Basic', 'Pro']),
      customer_since: state === 'signup' ? null : new Date(base + rng.int(0, 1000) * 60_000).toISOString(),
      cancelled_at: state === 'cancelled' ? new Date(base + rng.int(0, 1000) * 60_000).toISOString() : null,
      promotion: { ...structuredClone(leadTemplate.promotion), id: 4_000_000 + rng.int(0, 3), promoter_id: promoter },
      promoter: promoterSnapshot(promoter)
    }
  }
  for (const id of leadIds) {
    const n = rng.int(3, 5)
    // One "first payment" event per lead: its two spellings are one fact, deduped on the lead id.
    const firstPayment = rng.pick(['lead_becomes_referral', 'new_customer'])
    const types = [firstPayment, 'lead_signup', 'lead_cancelled']
    while (types.length < n) types.push(rng.pick(['lead_signup', 'lead_cancelled']))
    for (const type of types) {
      const state = type === 'lead_signup' ? 'signup' : type === 'lead_cancelled' ? 'cancelled' : 'active'
      const data = leadSnapshot(id, state)
      if (rng.chance(0.2)) { delete data.state; data.status = state } // the docs' other spelling
      events.push(envelope(type, data))
    }
  }

  const rewardTemplate = fixture('reward_created').data
  for (let i = 0; i < REWARDS; i++) {
    const id = 9_000_000 + i
    const n = rng.int(3, 5)
    for (let k = 0; k < n; k++) {
      const lead = leadSnapshot(rng.pick(leadIds), rng.pick(['active', 'cancelled']))
      delete lead.promotion
      delete lead.promoter
      const promoter = rng.pick(promoterIds)
      events.push(envelope('reward_created', {
        ...structuredClone(rewardTemplate),
        id,
        status: rng.pick(['pending', 'approved', 'denied']),
        amount: rng.int(0, 50_000),
        unit: rng.pick(['cash', 'points', 'free_months']),
        event_id: `sale_${rng.string(6)}`,
        conversion_amount: rng.int(0, 200_000),
        tier_level: rng.int(1, 2),
        lead,
        promoter: promoterSnapshot(promoter),
        promotion: {
          ...structuredClone(rewardTemplate.promotion),
          id: 4_000_000 + rng.int(0, 3),
          promoter_id: promoter
        }
      }))
    }
  }
  return { events, counts: { promoters: PROMOTERS, leads: LEADS, rewards: REWARDS } }
}

/** Every projection row, without `updated_at` (when we wrote it, not what we know). */
async function projections (env: ChaosEnv) {
  const strip = (rows: Row[]) => rows.map(({ updated_at: _u, ...rest }) => rest)
  return {
    promoters: strip(await env.sql`select * from promoters order by id`),
    leads: strip(await env.sql`select * from leads order by id`),
    rewards: strip(await env.sql`select * from rewards order by id`)
  }
}

async function settled (env: ChaosEnv, worker: FulfilmentWorker, expectedRows: number) {
  await waitFor(async () => {
    const [r] = await env.sql`select count(*)::int as n, count(*) filter (where state = 'processed')::int as done from webhook_events`
    const jobs = await worker.queues.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
    return r!.n === expectedRows && r!.done === expectedRows && Object.values(jobs).every((n) => n === 0)
  }, 30_000, async () => `every event processed: ${JSON.stringify(await env.sql`select state, count(*)::int from webhook_events group by state`)}`)
}

t.test('projections after shuffled, duplicated and replayed delivery equal those of in-order delivery', async (t) => {
  const rng = createRng(t)
  const { events, counts } = buildEvents(rng)
  const inOrder = [...events].sort((a, b) => Date.parse(a.event.created_at) - Date.parse(b.event.created_at))

  // Reference: one at a time in FirstPromoter's order, each processed before the next is sent.
  const refEnv = await createEnv(t)
  const refApi = await startApi(t, refEnv)
  const refWorker = await startWorker(t, refEnv, { concurrency: { grants: 1, events: 1 } })
  for (const [i, body] of inOrder.entries()) {
    const res = await inject(refApi, body)
    if (!is2xx(res.statusCode)) throw new Error(`reference delivery ${i} answered ${res.statusCode}: ${res.body}`)
    await waitFor(async () => {
      const [r] = await refEnv.sql`select count(*) filter (where state <> 'processed')::int as n from webhook_events`
      return r!.n === 0
    }, 10_000, `reference event ${i} to be processed`)
  }
  await settled(refEnv, refWorker, inOrder.length)
  const expected = await projections(refEnv)
  t.equal(expected.promoters.length, counts.promoters, 'reference: one row per promoter')
  t.equal(expected.leads.length, counts.leads, 'reference: one row per lead')
  t.equal(expected.rewards.length, counts.rewards, 'reference: one row per reward')

  let delivered = 0
  let duplicates = 0
  let replays = 0
  let mismatches = 0
  const answers: Answer[] = []
  for (let run = 1; run <= SHUFFLED_RUNS; run++) {
    const env = await createEnv(t)
    const api = await startApi(t, env, { env: { ADMIN_TOKEN } })
    const worker = await startWorker(t, env, { concurrency: { grants: 2, events: 8 } })
    await startWorker(t, env, { concurrency: { grants: 2, events: 8 } })

    // Shuffled, some sent twice, several in flight at once; stored ones replayed by an operator.
    const plan: Json[] = rng.shuffle(inOrder)
    for (const body of inOrder) if (rng.chance(0.25)) { plan.splice(rng.int(0, plan.length), 0, body); duplicates++ }
    const replayed: string[] = []
    for (let i = 0; i < plan.length; i += 6) {
      const batch = plan.slice(i, i + 6)
      answers.push(...await Promise.all(batch.map((body) => inject(api, body))))
      delivered += batch.length
      if (rng.chance(0.5)) {
        const stored = await env.sql`select id::int from webhook_events order by random() limit ${rng.int(1, 3)}`
        const res = await Promise.all(stored.map((r) => api.server.inject({ method: 'POST', url: `/admin/events/${r.id}/replay`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })))
        for (const r of res) {
          answers.push({ statusCode: r.statusCode, body: r.body })
          replayed.push(r.body)
        }
        replays += res.length
      }
      await sleep(rng.int(0, 30))
    }
    await settled(env, worker, inOrder.length)
    const got = await projections(env)
    for (const table of ['promoters', 'leads', 'rewards'] as const) {
      const same = JSON.stringify(got[table]) === JSON.stringify(expected[table])
      if (!same) mismatches++
      t.same(got[table], expected[table], `run ${run}: ${table} equal the in-order projection`)
    }
  }
  const bad = answers.filter((a) => !is2xx(a.statusCode))
  t.equal(bad.length, 0, 'every delivery and replay answered 2xx', { examples: bad.slice(0, 3) })

  t.comment(`generated events: ${events.length} (${counts.promoters} promoters, ${counts.leads} leads, ${counts.rewards} rewards, 3–5 events each)`)
  t.comment(`deliveries sent: ${inOrder.length} in order + ${delivered} in ${SHUFFLED_RUNS} shuffled runs (${duplicates} duplicates), ${replays} admin replays`)
  t.comment(`tables differing from the in-order result: ${mismatches}; non-2xx answers: ${bad.length}`)
})

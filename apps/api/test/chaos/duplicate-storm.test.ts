import t from 'tap'
import { createIds, fulfilmentEvent } from './helpers/payloads.js'
import { createRng } from './helpers/random.js'
import { ADMIN_TOKEN, createEnv, inject, is5xx, sleep, startApi, startWorker, tally, waitFor, type Answer } from './helpers/stack.js'

const ROUNDS = 3
const DELIVERIES = 100
const REPLAYS = 20

t.test(`${ROUNDS} storms of ${DELIVERIES} identical fulfilment_pending deliveries plus admin replays, two workers: one ledger row each`, async (t) => {
  const rng = createRng(t)
  const nextId = createIds(rng.int(1, 1_000_000) * 1000)
  const env = await createEnv(t)
  const api = await startApi(t, env, { env: { ADMIN_TOKEN, FP_FULFILMENT_WAIT_MS: '1500' } })
  // Two workers: separate pools and Redis connections on one database and prefix, as two processes.
  // Slow enough that some copies are answered before the grant commits (202), some after (200).
  const slowGrant = async () => { await sleep(rng.int(200, 2500)) }
  const grants = { free_months: slowGrant, credits: slowGrant }
  await startWorker(t, env, { grants, concurrency: { grants: 8, events: 4 } })
  await startWorker(t, env, { grants, concurrency: { grants: 8, events: 4 } })

  const replay = (inboxId: number) => api.server.inject({ method: 'POST', url: `/admin/events/${inboxId}/replay`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    .then((res) => ({ statusCode: res.statusCode, body: res.body }))

  const deliveries: Answer[] = []
  const replays: Answer[] = []
  const storms: Array<{ fulfilmentId: number, amount: number }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const amount = rng.int(1, 24)
    const body = fulfilmentEvent(nextId, { unit: rng.pick(['free_months', 'credits']), amount, custId: `storm_${round}` })
    const payload = JSON.stringify(body)
    storms.push({ fulfilmentId: body.data.id, amount })

    // Every copy is the same bytes (same event id, same fulfilment id), all in flight at once.
    const inFlight = Array.from({ length: DELIVERIES }, () => inject(api, payload))
    // Replays of the stored event join the storm as soon as its inbox row exists, spread over it.
    let inboxId = 0
    await waitFor(async () => {
      const [row] = await env.sql`select id::int from webhook_events where event_id = ${String(body.event.id)}`
      inboxId = row?.id ?? 0
      return inboxId > 0
    }, 10_000, 'the storm\'s inbox row')
    // Half of them in one burst while the grant runs, half in one burst after a random pause
    // (often once the grant job has completed: each replay then replaces the finished job).
    const later = rng.int(200, 3000)
    const replaying = Array.from({ length: REPLAYS }, async (_, i) => {
      if (i >= REPLAYS / 2) await sleep(later)
      return replay(inboxId)
    })
    deliveries.push(...await Promise.all(inFlight))
    replays.push(...await Promise.all(replaying))
  }

  // Everything settles: each fulfilment granted, the replayed event jobs done.
  await waitFor(async () => {
    const [r] = await env.sql`select count(*)::int as n from fulfilments where state <> 'granted'`
    return r!.n === 0
  }, 20_000, 'every storm\'s fulfilment to be granted')
  // After the storm, FirstPromoter's next re-fire hears 200.
  const refires = await Promise.all(storms.map(async (s) => {
    const [row] = await env.sql`select payload from webhook_events where event_type = 'fulfilment_pending' and (payload->'data'->>'id')::bigint = ${s.fulfilmentId}`
    return inject(api, row!.payload)
  }))
  t.same(refires.map((r) => r.statusCode), storms.map(() => 200), 'a re-fire after the storm is answered 200 (granted)')

  const ledger = await env.sql`select fulfilment_id::bigint as id, count(*)::int as n, sum(amount)::int as amount from ledger_entries group by fulfilment_id`
  for (const s of storms) {
    const row = ledger.find((r) => Number(r.id) === s.fulfilmentId)
    t.equal(row?.n, 1, `fulfilment ${s.fulfilmentId}: exactly one ledger row`)
    t.equal(row?.amount, s.amount, `fulfilment ${s.fulfilmentId}: granted its amount once`)
  }
  t.equal(ledger.length, ROUNDS, 'no other ledger rows')
  const [inbox] = await env.sql`select count(*)::int as n from webhook_events`
  t.equal(inbox!.n, ROUNDS, 'one inbox row per storm: the copies were deduped')

  const deliveryTally = tally(deliveries)
  const replayTally = tally(replays)
  const badDeliveries = deliveries.filter((a) => a.statusCode !== 200 && a.statusCode !== 202)
  const badReplays = replays.filter((a) => a.statusCode !== 202)
  const fiveXX = [...deliveries, ...replays].filter((a) => is5xx(a.statusCode))
  t.equal(badDeliveries.length, 0, `every delivery answered 200 or 202 ${JSON.stringify(deliveryTally)}`, { examples: badDeliveries.slice(0, 3) })
  t.equal(badReplays.length, 0, `every replay answered 202 ${JSON.stringify(replayTally)}`, { examples: badReplays.slice(0, 3) })
  t.equal(fiveXX.length, 0, 'no 5xx at all')
  const doubled = ledger.filter((r) => r.n > 1).length

  const replayOutcomes = tally(replays.filter((r) => r.statusCode === 202).map((r) => {
    const body = JSON.parse(r.body) as { event: string, fulfilment?: { grant: string } }
    return { statusCode: `event ${body.event}, grant ${body.fulfilment?.grant ?? '-'}` as unknown as number }
  }))
  t.comment(`replay outcomes: ${JSON.stringify(replayOutcomes)}`)
  t.comment(`deliveries sent: ${deliveries.length} (${ROUNDS} × ${DELIVERIES} identical) ${JSON.stringify(deliveryTally)}; admin replays: ${replays.length} ${JSON.stringify(replayTally)}; re-fires: ${refires.length}`)
  t.comment(`double-granted: ${doubled}, lost: ${storms.length - ledger.length}, 5xx: ${fiveXX.length}`)
})

import t from 'tap'
import { createIds, fulfilmentEvent, ordinaryEvent, ORDINARY_TYPES } from './helpers/payloads.js'
import { startProxy } from './helpers/proxy.js'
import { createRng } from './helpers/random.js'
import { TEST_REDIS_URL, createEnv, is2xx, is5xx, send, sleep, startApi, startWorker, tally, waitFor } from './helpers/stack.js'

const DELIVERIES = 150
const SPACING_MS = 30
const CUT_AT = 50
const RESTORE_AT = 100
const RESET_AT = 125
const FULFILMENT_SHARE = 0.3

interface Sent {
  i: number
  phase: 'before' | 'cut' | 'after'
  eventId: string
  type: string
  fulfilmentId: number | null
  amount: number
  statusCode: number
  error: string | null
  answeredAt: number
}

t.test('Redis cut in the middle of a steady stream: no 5xx, nothing lost, every fulfilment granted once', async (t) => {
  const rng = createRng(t)
  const nextId = createIds(rng.int(1, 1_000_000) * 1000)
  const env = await createEnv(t)
  const redis = new URL(TEST_REDIS_URL)
  const proxy = await startProxy(t, { host: redis.hostname, port: Number(redis.port || 6379) })
  const api = await startApi(t, env, { redisUrl: proxy.via(TEST_REDIS_URL), listen: true, env: { FP_FULFILMENT_WAIT_MS: '800' } })
  // The worker talks to the real Redis: only the api loses it.
  const worker = await startWorker(t, env, { staleAfterMs: 0 })

  const sent: Sent[] = []
  const inFlight: Array<Promise<void>> = []
  let phase: Sent['phase'] = 'before'
  let cutAt = 0
  let restoredAt = 0
  const started = Date.now()
  for (let i = 0; i < DELIVERIES; i++) {
    if (i === CUT_AT) { proxy.cut(); phase = 'cut'; cutAt = Date.now() }
    if (i === RESTORE_AT) { proxy.restore(); phase = 'after'; restoredAt = Date.now() }
    if (i === RESET_AT) proxy.reset()
    const fulfilment = rng.chance(FULFILMENT_SHARE)
    const amount = rng.int(1, 12)
    const body = fulfilment
      ? fulfilmentEvent(nextId, { unit: rng.pick(['free_months', 'credits', 'points']), amount, custId: rng.chance(0.5) ? `cust_${rng.int(1, 20)}` : '' })
      : ordinaryEvent(rng.pick(ORDINARY_TYPES), nextId)
    const record: Sent = {
      i,
      phase,
      eventId: String(body.event.id),
      type: body.event.type,
      fulfilmentId: fulfilment ? body.data.id : null,
      amount,
      statusCode: 0,
      error: null,
      answeredAt: 0
    }
    sent.push(record)
    inFlight.push(send(api, body).then(
      (res) => {
        record.statusCode = res.statusCode
        record.answeredAt = Date.now()
        if (!is2xx(res.statusCode)) record.error = res.body.slice(0, 300)
      },
      (err: Error) => { record.error = err.message; record.answeredAt = Date.now() }
    ))
    await sleep(SPACING_MS)
  }
  await Promise.all(inFlight)
  const streamMs = Date.now() - started

  const fulfilments = sent.filter((s) => s.fulfilmentId !== null)
  const byPhase = (p: Sent['phase']) => tally(sent.filter((s) => s.phase === p))
  const fiveXX = sent.filter((s) => is5xx(s.statusCode))
  const unanswered = sent.filter((s) => s.statusCode === 0)
  const notAccepted = sent.filter((s) => !is2xx(s.statusCode))
  t.equal(fiveXX.length, 0, 'no delivery answered 5xx', { examples: fiveXX.slice(0, 5) })
  t.equal(unanswered.length, 0, 'every delivery got an answer', { examples: unanswered.slice(0, 5) })
  t.equal(notAccepted.length, 0, 'every delivery was accepted (Redis down is not the sender\'s problem)', { examples: notAccepted.slice(0, 5) })

  // Durable before 2xx: every accepted delivery is in the inbox the moment it was answered.
  const inbox = new Set((await env.sql`select event_id from webhook_events`).map((r) => r.event_id as string))
  const missing = sent.filter((s) => is2xx(s.statusCode) && !inbox.has(s.eventId))
  t.equal(missing.length, 0, 'every delivery answered 2xx is in the inbox', { missing: missing.slice(0, 5) })
  t.equal(inbox.size, sent.length, 'one inbox row per delivery')

  // The sweeper is the fallback, not the path: what was answered while Redis was up is processed without it.
  const healthy = sent.filter((s) => s.phase === 'before' && s.answeredAt < cutAt).map((s) => s.eventId)
  let unprocessed: Array<{
    event_id: string
    event_type: string
    state: string
    attempts: number
    last_error: string | null
  }> = []
  await waitFor(async () => {
    unprocessed = (await env.sql`select event_id, event_type, state, attempts, last_error from webhook_events where event_id = any(${healthy}) and state <> 'processed'`) as typeof unprocessed
    return unprocessed.length === 0
  }, 10_000, () => `events answered before the cut to be processed without the sweeper (${unprocessed.length} not: ${JSON.stringify(unprocessed.slice(0, 20))})`)
  t.pass(`the ${healthy.length} events answered while Redis was up were processed without the sweeper`)

  // The api's producer connection comes back by itself.
  await waitFor(async () => (await api.server.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 15_000, 'the api to see Redis again (/readyz 200)')
  const reconnectMs = Date.now() - restoredAt

  // What the api could not enqueue is waiting in Postgres for the sweeper.
  const [leftover] = await env.sql`
    select (select count(*)::int from webhook_events where state = 'pending') as events,
           (select count(*)::int from fulfilments where state in ('pending', 'granting')) as fulfilments`
  await worker.sweep()
  await waitFor(async () => {
    const [r] = await env.sql`
      select (select count(*)::int from webhook_events where state <> 'processed') as events,
             (select count(*)::int from fulfilments where state <> 'granted') as fulfilments`
    return r!.events === 0 && r!.fulfilments === 0
  }, 30_000, async () => JSON.stringify(await env.sql`
      select 'event' as what, state, count(*)::int from webhook_events group by state
      union all select 'fulfilment', state, count(*)::int from fulfilments group by state`))

  const ledger = await env.sql`select fulfilment_id::bigint as id, count(*)::int as n, sum(amount)::int as amount from ledger_entries group by fulfilment_id`
  const ledgerById = new Map(ledger.map((r) => [Number(r.id), r]))
  const lost = fulfilments.filter((f) => !ledgerById.has(f.fulfilmentId!))
  const doubled = ledger.filter((r) => r.n > 1)
  const wrongAmount = fulfilments.filter((f) => ledgerById.get(f.fulfilmentId!)?.amount !== f.amount)
  t.equal(lost.length, 0, 'no fulfilment lost: each has its ledger row', { lost: lost.slice(0, 5) })
  t.equal(doubled.length, 0, 'no fulfilment granted twice')
  t.equal(wrongAmount.length, 0, 'each ledger row has the fulfilment\'s amount')
  t.equal(ledger.length, fulfilments.length, 'no ledger row for anything else')
  const [balance] = await env.sql`select coalesce(sum(amount), 0)::int as total from ledger_entries`
  t.equal(balance!.total, fulfilments.reduce((s, f) => s + f.amount, 0), 'ledger balance == sum of the fulfilments\' amounts')

  t.comment(`deliveries sent: ${sent.length} (${fulfilments.length} fulfilment_pending) over ${streamMs} ms`)
  t.comment(`answers before the cut ${JSON.stringify(byPhase('before'))}, during ${JSON.stringify(byPhase('cut'))}, after ${JSON.stringify(byPhase('after'))}`)
  t.comment(`faults injected: 1 cut of ${restoredAt - cutAt} ms + 1 reset; proxy ${JSON.stringify(proxy.stats)}`)
  t.comment(`api saw Redis again (/readyz 200) at most ${reconnectMs} ms after the restore; left for the sweeper: ${leftover!.events} events, ${leftover!.fulfilments} fulfilments`)
  t.comment(`lost: ${lost.length}, double-granted: ${doubled.length}, 5xx: ${fiveXX.length}, unanswered: ${unanswered.length}`)
})

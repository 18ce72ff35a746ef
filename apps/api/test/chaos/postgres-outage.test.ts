import t from 'tap'
import { createIds, fulfilmentEvent, ordinaryEvent, ORDINARY_TYPES, type Json } from './helpers/payloads.js'
import { startProxy } from './helpers/proxy.js'
import { createRng, type Rng } from './helpers/random.js'
import { TEST_PG_URL, createEnv, inject, is2xx, is5xx, sleep, startApi, startWorker, tally, waitFor, type Api } from './helpers/stack.js'

const BEFORE = 15
const DURING = 40
const AFTER = 25
const BURST = 40

interface Delivery { eventId: string, fulfilmentId: number | null, body: Json }

function delivery (rng: Rng, nextId: () => number): Delivery {
  const body = rng.chance(0.3)
    ? fulfilmentEvent(nextId, { unit: 'credits', amount: rng.int(1, 9) })
    : ordinaryEvent(rng.pick(ORDINARY_TYPES), nextId)
  return { eventId: String(body.event.id), fulfilmentId: body.event.type === 'fulfilment_pending' ? body.data.id : null, body }
}

interface Result extends Delivery { statusCode: number, answer: string, ms: number }

async function deliverAll (api: Api, list: Delivery[], concurrency: number): Promise<Result[]> {
  const out: Result[] = []
  for (let i = 0; i < list.length; i += concurrency) {
    const batch = list.slice(i, i + concurrency)
    out.push(...await Promise.all(batch.map(async (d) => {
      const started = Date.now()
      const res = await inject(api, d.body)
      return { ...d, statusCode: res.statusCode, answer: res.body, ms: Date.now() - started }
    })))
  }
  return out
}

t.test('Postgres cut: 503 and nothing written while it is away, readiness follows, deliveries succeed again by themselves', async (t) => {
  const rng = createRng(t)
  const nextId = createIds(rng.int(1, 1_000_000) * 1000)
  const env = await createEnv(t)
  const pg = new URL(TEST_PG_URL)
  const proxy = await startProxy(t, { host: pg.hostname, port: Number(pg.port || 5432) })
  const api = await startApi(t, env, { databaseUrl: proxy.via(env.dbUrl), env: { FP_FULFILMENT_WAIT_MS: '1000' } })
  await startWorker(t, env)
  const readyz = async () => (await api.server.inject({ method: 'GET', url: '/readyz' }))

  // Healthy.
  const before = await deliverAll(api, Array.from({ length: BEFORE }, () => delivery(rng, nextId)), 5)
  t.ok(before.every((a) => is2xx(a.statusCode)), `all ${BEFORE} deliveries accepted before the cut ${JSON.stringify(tally(before))}`)
  t.equal((await readyz()).statusCode, 200, '/readyz 200 before the cut')

  // Cut: every delivery is refused with 503 (FirstPromoter retries), never a 2xx it would trust.
  proxy.cut()
  const cutStarted = Date.now()
  const during = await deliverAll(api, Array.from({ length: DURING }, () => delivery(rng, nextId)), DURING)
  const duringTally = tally(during)
  t.equal(during.filter((a) => a.statusCode === 503).length, DURING, `every delivery during the cut answered 503 ${JSON.stringify(duringTally)}`)
  t.equal(during.filter((a) => is2xx(a.statusCode)).length, 0, 'none answered 2xx')
  t.ok(during.every((a) => { try { return JSON.parse(a.answer).code === 'FST_FIRSTPROMOTER_STORE_UNAVAILABLE' } catch { return false } }), 'each 503 names the store as unavailable')
  const notReady = await readyz()
  t.equal(notReady.statusCode, 503, '/readyz 503 while Postgres is cut')
  t.match(notReady.json(), { status: 'unavailable', redis: 'ok' }, 'readiness names Postgres, not Redis')
  t.not(notReady.json().postgres, 'ok', 'the Postgres check is reported failing')
  const cutMs = Date.now() - cutStarted

  // Restore: nothing is restarted; the pool reconnects on its own.
  proxy.restore()
  const restoredAt = Date.now()
  const after = await deliverAll(api, Array.from({ length: AFTER }, () => delivery(rng, nextId)), 5)
  const recoveryMs = Date.now() - restoredAt
  t.equal(after.filter((a) => is2xx(a.statusCode)).length, AFTER, `every delivery after the restore accepted, no restart needed ${JSON.stringify(tally(after))}`, { refused: after.filter((a) => !is2xx(a.statusCode)).map((a) => ({ type: a.body.event.type, ms: a.ms, answer: a.answer })) })
  await waitFor(async () => (await readyz()).statusCode === 200, 10_000, '/readyz 200 after the restore')
  t.pass('/readyz 200 again after the restore')

  // A reset in the middle of a burst (connections dropped, new ones allowed): whatever answered 2xx is stored.
  const burstList = Array.from({ length: BURST }, () => delivery(rng, nextId))
  const burstPromise = deliverAll(api, burstList, BURST)
  await sleep(rng.int(0, 15))
  proxy.reset()
  const burst = await burstPromise
  const burstTally = tally(burst)
  t.ok(burst.every((a) => is2xx(a.statusCode) || a.statusCode === 503), `during a reset each delivery is either accepted or 503 ${JSON.stringify(burstTally)}`)

  // Check on the real database, not through the proxy.
  const inbox = new Set((await env.sql`select event_id from webhook_events`).map((r) => r.event_id as string))
  const fulfilments = new Set((await env.sql`select id::text from fulfilments`).map((r) => r.id as string))
  const writtenWhileCut = during.filter((d) =>
    inbox.has(d.eventId) || (d.fulfilmentId !== null && fulfilments.has(String(d.fulfilmentId))))
  t.equal(writtenWhileCut.length, 0, 'no inbox or fulfilment row for any delivery refused during the cut', { ghosts: writtenWhileCut.map((d) => ({ eventId: d.eventId, type: d.body.event.type, fulfilmentId: d.fulfilmentId, ms: d.ms })) })
  const [quarantined] = await env.sql`select count(*)::int as n from quarantine`
  t.equal(quarantined!.n, 0, 'and nothing quarantined: a 503 is not a bad body')
  const lostAccepted = [...before, ...after, ...burst].filter((d) => is2xx(d.statusCode) && !inbox.has(d.eventId))
  t.equal(lostAccepted.length, 0, 'every delivery answered 2xx is in the inbox')
  const ambiguous = burst.filter((d) => d.statusCode === 503 && inbox.has(d.eventId)).length

  const fiveXX = [...before, ...after, ...burst].filter((a) => is5xx(a.statusCode) && a.statusCode !== 503)
  t.equal(fiveXX.length, 0, 'no 5xx other than 503')
  const sentCount = BEFORE + DURING + AFTER + BURST
  t.comment(`deliveries sent: ${sentCount} (before ${BEFORE}, during the cut ${DURING}, after ${AFTER}, burst with a reset ${BURST})`)
  t.comment(`answers during the cut ${JSON.stringify(duringTally)}, after ${JSON.stringify(tally(after))}, burst ${JSON.stringify(burstTally)}`)
  t.comment(`faults injected: 1 cut (${cutMs} ms) + 1 reset; proxy ${JSON.stringify(proxy.stats)}`)
  t.comment(`recovery: ${AFTER} deliveries after the restore all 2xx in ${recoveryMs} ms; 503 answers whose row committed anyway (FirstPromoter retries, dedupe absorbs it): ${ambiguous}`)
  t.comment(`lost (2xx without a row): ${lostAccepted.length}, rows written while cut: ${writtenWhileCut.length}, non-503 5xx: ${fiveXX.length}`)
})

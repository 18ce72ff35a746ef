// Postgres connections cut and healed every 0.4 s for 15 s under the api and worker processes as
// deployments run them (the built bins). postgres.js 3.4.9 unpatched kills both within seconds
// with "TypeError: Cannot read properties of null (reading 'write')" (patches/postgres@3.4.9.patch).
import t from 'tap'
import { createIds, fulfilmentEvent } from './helpers/payloads.js'
import { API_BIN, WORKER_BIN, listeningUrl, spawnService } from './helpers/processes.js'
import { startProxy } from './helpers/proxy.js'
import { createRng } from './helpers/random.js'
import { SECRET, TEST_PG_URL, TEST_REDIS_URL, WEBHOOK, createEnv, is2xx, sleep, tally, waitFor } from './helpers/stack.js'

const FLAP_MS = Number(process.env.CHAOS_FLAP_MS ?? 15_000)
const HALF_PERIOD_MS = 200
const CRASH = /Cannot read properties of null|uncaught|TypeError/i

interface Sent { id: number, unit: string, amount: number, statusCode: number | 'error' }

t.test(`Postgres connections cut and healed every ${2 * HALF_PERIOD_MS} ms for ${FLAP_MS / 1000} s: api and worker survive, every fulfilment granted once`, async (t) => {
  const rng = createRng(t)
  const nextId = createIds(rng.int(1, 1_000_000) * 1000)
  const env = await createEnv(t)
  const pg = new URL(TEST_PG_URL)
  const proxy = await startProxy(t, { host: pg.hostname, port: Number(pg.port || 5432) })
  const common = { DATABASE_URL: proxy.via(env.dbUrl), REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: env.prefix, LOG_LEVEL: 'info' }
  const worker = spawnService(t, WORKER_BIN, { ...common, SWEEP_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '4' })
  const api = spawnService(t, API_BIN, { ...common, PORT: '0', HOST: '127.0.0.1', FP_WEBHOOK_SECRET: SECRET, FP_FULFILMENT_WAIT_MS: '300' })
  await worker.waitForLine((l) => l.msg === 'worker ready', 30_000, 'the worker to start')
  const baseUrl = await listeningUrl(api)
  t.teardown(async () => { await Promise.all([api.stop(), worker.stop()]) })

  const fulfilments = new Map<number, { unit: string, amount: number, body: unknown }>()
  const sent: Sent[] = []
  const deliver = async (id: number): Promise<Sent> => {
    const f = fulfilments.get(id)!
    let statusCode: Sent['statusCode'] = 'error'
    try {
      const res = await fetch(baseUrl + WEBHOOK, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f.body), signal: AbortSignal.timeout(20_000) })
      await res.arrayBuffer()
      statusCode = res.status
    } catch {}
    const s = { id, unit: f.unit, amount: f.amount, statusCode }
    sent.push(s)
    return s
  }

  // Flap while two senders keep delivering new fulfilments.
  const state = { flapping: true }
  const flaps = (async () => {
    const until = Date.now() + FLAP_MS
    while (Date.now() < until) {
      proxy.cut()
      await sleep(HALF_PERIOD_MS)
      proxy.restore()
      await sleep(HALF_PERIOD_MS)
    }
    state.flapping = false
  })()
  const sender = async () => {
    while (state.flapping) {
      const amount = rng.int(1, 20)
      const unit = rng.pick(['free_months', 'credits', 'points'])
      const body = fulfilmentEvent(nextId, { unit, amount, custId: `flap_${rng.int(1, 5)}` })
      fulfilments.set(body.data.id, { unit, amount, body })
      await deliver(body.data.id)
      await sleep(rng.int(20, 120))
    }
  }
  await Promise.all([flaps, sender(), sender()])
  const duringFlaps = tally(sent.map((s) => ({ statusCode: s.statusCode === 'error' ? 0 : s.statusCode })))

  t.ok(worker.alive, `the worker process is still running after ${proxy.stats.cuts} cuts`)
  t.ok(api.alive, 'the api process is still running')
  for (const [name, s] of [['worker', worker], ['api', api]] as const) {
    if (!s.alive) t.comment(`${name} exited (${await s.exited}); its last lines:\n${s.lines.slice(-15).map((l) => l.raw).join('\n')}`)
  }
  t.notMatch(worker.output(), CRASH, 'no uncaught TypeError in the worker\'s output')
  t.notMatch(api.output(), CRASH, 'no uncaught TypeError in the api\'s output')
  t.ok(sent.every((s) => s.statusCode === 200 || s.statusCode === 202 || s.statusCode === 503), `every delivery answered 200, 202 or 503 ${JSON.stringify(duringFlaps)}`)

  // Healed. FirstPromoter re-sends a fulfilment it was not given a 2xx for; do the same.
  const answered = new Set(sent.filter((s) => typeof s.statusCode === 'number' && is2xx(s.statusCode)).map((s) => s.id))
  await waitFor(async () => {
    for (const id of fulfilments.keys()) {
      if (!answered.has(id) && is2xx(Number((await deliver(id)).statusCode))) answered.add(id)
    }
    return answered.size === fulfilments.size
  }, 30_000, () => `every fulfilment to be accepted after the flaps (${answered.size}/${fulfilments.size})`)

  // The worker recovers by itself: no restart, no help.
  let notGranted = -1
  await waitFor(async () => {
    const [row] = await env.sql`select count(*)::int as n from fulfilments where state <> 'granted'`
    notGranted = row!.n
    return notGranted === 0
  }, 60_000, () => `every fulfilment to be granted (${notGranted} not yet)`).catch(() => {})
  t.equal(notGranted, 0, 'every fulfilment ends granted')

  const ledger = await env.sql`select fulfilment_id::bigint as id, count(*)::int as n, sum(amount)::bigint as amount from ledger_entries group by fulfilment_id`
  const byId = new Map(ledger.map((r) => [Number(r.id), r]))
  t.equal(ledger.filter((r) => r.n !== 1).length, 0, 'one ledger row per granted fulfilment, never two')
  t.same([...fulfilments.keys()].filter((id) => !byId.has(id)), [], 'no fulfilment without its ledger row')
  t.equal(ledger.length, fulfilments.size, 'no ledger row for anything not delivered')
  t.ok([...fulfilments].every(([id, f]) => Number(byId.get(id)?.amount) === f.amount), 'each ledger row holds its fulfilment\'s amount')
  t.ok(worker.alive && api.alive, 'both processes still running at the end')

  const exits = await Promise.all([api.stop(), worker.stop()])
  t.same(exits, [0, 0], 'both drain and exit 0 on SIGTERM')
  t.comment(`flaps: ${proxy.stats.cuts} cuts, ${proxy.stats.destroyed} connections destroyed, ${proxy.stats.refused} refused; ${fulfilments.size} fulfilments, answers during the flaps ${JSON.stringify(duringFlaps)}, ${sent.length} deliveries in all`)
})

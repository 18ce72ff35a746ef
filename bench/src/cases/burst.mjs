// `burst`: FirstPromoter's periodic check re-sends every pending fulfilment at once (after an
// outage, say): BURST_DELIVERIES (5,000) fulfilment_pending deliveries within about
// BURST_SECONDS (5) over BURST_CONNECTIONS (200), against the real api and one worker process
// whose FirstPromoter API is the fake one (in this process). Then: every fulfilment granted
// exactly once within BURST_GRANT_SECONDS (60) of the start, and every one answered 202 closed
// through the fake API.
import postgres from 'postgres'
import { startChild } from '../lib/children.mjs'
import { cpuMeter } from '../lib/cpu.mjs'
import { REDIS_URL, RUN_ID, createDatabase, createPrefix, deletePrefix, dropDatabase } from '../lib/infra.mjs'
import { SECRET, runLoad } from '../lib/load.mjs'
import { fulfilmentBodies } from '../lib/payloads.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The fake FirstPromoter API, from the built package by path: the bench needs no dependency for it. */
async function startFake () {
  const { startFakeFirstPromoter } = await import(new URL('../../../packages/firstpromoter-api/dist/fake-server.js', import.meta.url).href)
  return startFakeFirstPromoter()
}

export async function burstCase ({ settings, log, profile }) {
  const n = settings.burstDeliveries
  const db = await createDatabase('burst')
  const prefix = createPrefix('burst')
  const fake = await startFake()
  const children = []
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  try {
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      FP_WEBHOOK_SECRET: SECRET,
      WORKER_CONCURRENCY: String(settings.workerConcurrency),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      FP_API_KEY: fake.apiKey,
      FP_API_URL: fake.url
    }
    const worker = await startChild('worker.mjs', { name: `${RUN_ID}-burst-worker`, env, cpuProf: profile.has('worker') })
    children.push(worker)
    const api = await startChild('api.mjs', { name: `${RUN_ID}-burst-api`, env, cpuProf: profile.has('api') })
    children.push(api)
    const bodies = fulfilmentBodies()
    // Each fulfilment is a pending payout on the fake API, so that a close of a 202 can complete.
    const nextBody = () => {
      const body = bodies()
      const { data } = JSON.parse(body)
      fake.addPayout({ id: data.id, amount: data.amount, unit: data.unit, promoter: { id: data.promoter.id, cust_id: '', email: null } })
      return body
    }
    log(`burst: ${n} fulfilments at ${Math.round(n / settings.burstSeconds)}/s over ${settings.burstConnections} connections; api pid ${api.pid}, worker pid ${worker.pid}`)
    const meter = cpuMeter([api.pid, worker.pid], db.name)
    await meter.start()
    const started = Date.now()
    const load = await runLoad({
      port: api.port,
      nextBody,
      connections: settings.burstConnections,
      amount: n,
      overallRate: Math.ceil(n / settings.burstSeconds),
      maxSeconds: 120
    })
    const sentIn = (Date.now() - started) / 1000
    log(`burst: answered ${load.answered} in ${sentIn.toFixed(1)} s, status ${JSON.stringify(load.status)}, p99 ${load.p99} ms, max ${load.max} ms`)

    const deadline = started + settings.burstGrantSeconds * 1000
    let check
    let allGrantedAfter = null
    for (;;) {
      check = (await sql`select (select count(*)::int from fulfilments) as fulfilments,
        (select count(*)::int from fulfilments where state = 'granted') as granted,
        (select count(*)::int from ledger_entries) as ledger,
        (select count(distinct fulfilment_id)::int from ledger_entries) as distinct_ledger`)[0]
      if (check.granted === check.fulfilments && check.fulfilments >= load.answered) {
        allGrantedAfter = (Date.now() - started) / 1000
        break
      }
      if (Date.now() > deadline) break
      await sleep(250)
    }
    const cpu = await meter.stop()
    // Answered 202 (the history's answers): each must end closed through the API.
    const pendingIds = (await sql`select distinct fulfilment_id::text as id from fulfilment_answers where status_code = 202`).map((r) => Number(r.id))
    const closeDeadline = Date.now() + 60_000
    let closed = 0
    for (;;) {
      closed = pendingIds.filter((id) => fake.getPayout(id)?.status === 'completed').length
      if (closed === pendingIds.length || Date.now() > closeDeadline) break
      await sleep(500)
    }
    const closes = (await sql`select count(*)::int as n from fulfilments where api_close = 'done'`)[0].n
    const per = Math.max(1, load.answered)
    const fivexx = Object.entries(load.status).filter(([code]) => code.startsWith('5')).reduce((a, [, c]) => a + c, 0)
    return {
      ...load,
      sentIn,
      fivexx,
      check,
      allGrantedAfter,
      answered202: pendingIds.length,
      closedViaApi: closed,
      apiCloseDone: closes,
      cpu: { api: cpu.byPid[api.pid] / per, worker: cpu.byPid[worker.pid] / per, pg: cpu.pg / per }
    }
  } finally {
    await sql.end()
    await Promise.all(children.map((c) => c.stop()))
    await fake.close()
    await dropDatabase(db.name).catch((err) => log(`cleanup: ${err.message}`))
    await deletePrefix(prefix).catch((err) => log(`cleanup: ${err.message}`))
  }
}

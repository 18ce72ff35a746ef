#!/usr/bin/env node
// `pnpm bench`: every case against the local Postgres and Redis (own databases, own key prefixes),
// the servers and workers in child processes, autocannon in this process. Prints a markdown table
// and writes it to bench/RESULTS.md. Knobs: see bench/README.md.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { Queue } from 'bullmq'
import { GRANTS_QUEUE, GRANT_JOB_OPTIONS, JOB, grantJobId } from '@fp-webhooks/queue'
import { Redis } from 'ioredis'
import postgres from 'postgres'
import { BENCH_DIR, LOG_DIR, PROFILE_DIR, startChild, stopAll } from './lib/children.mjs'
import { cpuMeter } from './lib/cpu.mjs'
import { REDIS_URL, RUN_ID, cleanupAll, createDatabase, createPrefix, createTemplate, deletePrefix, dropDatabase } from './lib/infra.mjs'
import { SECRET, runLoad } from './lib/load.mjs'
import { fulfilmentBodies, mixedBodies, nextFulfilmentId, ordinaryBodies, promoterId } from './lib/payloads.mjs'
import { summarise } from './profile-summary.mjs'
import { burstCase } from './cases/burst.mjs'
import { pruneCase } from './cases/prune.mjs'

// ---------------------------------------------------------------- settings

const num = (name, fallback) => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return n
}

const ALL_CASES = ['baseline-empty', 'baseline-insert', 'ingest', 'fulfilment', 'worker-drain', 'soak', 'burst', 'prune']
const S = {
  seconds: num('BENCH_SECONDS', 10),
  reps: Math.round(num('BENCH_REPS', 3)),
  warmup: num('BENCH_WARMUP_SECONDS', Math.min(3, num('BENCH_SECONDS', 10))),
  connections: Math.round(num('BENCH_CONNECTIONS', 50)),
  fulfilmentConnections: Math.round(num('FULFILMENT_CONNECTIONS', 20)),
  fulfilmentWorkers: Math.round(num('FULFILMENT_WORKERS', 1)),
  burstDeliveries: Math.round(num('BURST_DELIVERIES', 5000)),
  burstSeconds: num('BURST_SECONDS', 5),
  burstConnections: Math.round(num('BURST_CONNECTIONS', 200)),
  burstGrantSeconds: num('BURST_GRANT_SECONDS', 60),
  pruneRows: Math.round(num('PRUNE_ROWS', 1_000_000)),
  pruneRate: Math.round(num('PRUNE_RATE', 300)),
  pruneQuietSeconds: num('PRUNE_QUIET_SECONDS', 5),
  drainJobs: Math.round(num('DRAIN_JOBS', 10_000)),
  drainReps: Math.round(num('DRAIN_REPS', 1)),
  drainTimeout: num('DRAIN_TIMEOUT_SECONDS', 180),
  workerConcurrency: Math.round(num('WORKER_CONCURRENCY', 8)),
  soakDeliveries: Math.round(num('SOAK_DELIVERIES', 100_000)),
  soakRate: Math.round(num('SOAK_RATE', 1000)),
  soakConnections: Math.round(num('SOAK_CONNECTIONS', 100)),
  soakFulfilmentShare: num('SOAK_FULFILMENT_SHARE', 0.05),
  cases: (process.env.BENCH_CASES ?? ALL_CASES.join(',')).split(',').map((s) => s.trim()).filter(Boolean),
  profile: new Set((process.env.BENCH_PROFILE ?? '').split(',').map((s) => s.trim()).filter(Boolean))
}
for (const c of S.cases) if (!ALL_CASES.includes(c)) throw new Error(`unknown case "${c}" in BENCH_CASES (known: ${ALL_CASES.join(', ')})`)
if (S.soakFulfilmentShare >= 1) throw new Error('SOAK_FULFILMENT_SHARE must be below 1')
const runs = (name) => S.cases.includes(name)

// ---------------------------------------------------------------- helpers

const log = (...args) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return null
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const sum = (xs) => xs.reduce((a, b) => a + b, 0)
const fmtInt = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'))
const fmtMs = (n) => (n === null || n === undefined ? '—' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`)
const fmtPct = (n) => (n === null || n === undefined ? '—' : `${n.toFixed(1)}%`)
const fmtMb = (n) => (n === null || n === undefined ? '—' : `${n.toFixed(0)} MB`)
const pass = (ok) => (ok === null ? '—' : ok ? 'PASS' : 'MISS')

const childEnv = (db, prefix) => ({
  DATABASE_URL: db.url,
  REDIS_URL,
  QUEUE_PREFIX: prefix,
  FP_WEBHOOK_SECRET: SECRET,
  WORKER_CONCURRENCY: String(S.workerConcurrency),
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn'
})

/** Combines the repetitions of one HTTP case: the median of each figure, error counts summed. */
function combine (reps) {
  const status = {}
  for (const r of reps) for (const [code, n] of Object.entries(r.status)) status[code] = (status[code] ?? 0) + n
  return {
    reps,
    rps: median(reps.map((r) => r.rps)),
    p50: median(reps.map((r) => r.p50)),
    p90: median(reps.map((r) => r.p90)),
    p99: median(reps.map((r) => r.p99)),
    cpu: reps[0]?.cpu ? { procs: median(reps.map((r) => r.cpu.procs)), pg: median(reps.map((r) => r.cpu.pg)) } : null,
    answered: sum(reps.map((r) => r.answered)),
    errors: sum(reps.map((r) => r.errors + r.timeouts)),
    non2xx: sum(reps.map((r) => r.non2xx)),
    status
  }
}

/** Runs `fn` (a load run) with the CPU of `pids` and of `database`'s backends metered, per answered request. */
async function metered (pids, database, fn) {
  const meter = cpuMeter(pids, database)
  await meter.start()
  const r = await fn()
  const cpu = await meter.stop()
  const per = Math.max(1, r.answered ?? r.done ?? 1)
  const byPid = Object.fromEntries(Object.entries(cpu.byPid).map(([pid, ms]) => [pid, ms / per]))
  return { ...r, cpu: { procs: cpu.procs / per, pg: cpu.pg / per, byPid } }
}

const fmtCpu = (cpu, what = 'req') => (cpu ? `CPU/${what}: ${cpu.procs.toFixed(2)} ms Node + ${cpu.pg.toFixed(2)} ms Postgres` : '')

async function waitForIdleQueue (prefix, timeoutMs = 30_000) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue(GRANTS_QUEUE, { connection, prefix })
  try {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused')
      if (sum(Object.values(c)) === 0) return true
      await sleep(200)
    }
    return false
  } finally {
    await queue.close()
    await connection.quit().catch(() => connection.disconnect())
  }
}

// ---------------------------------------------------------------- cases

/**
 * baseline-empty, baseline-insert and ingest: the three servers run side by side (an idle server
 * costs nothing) and their repetitions are interleaved, so that a neighbour's load on this shared
 * machine hits all three alike instead of skewing one of them.
 */
async function throughputCases (results) {
  const wanted = ['baseline-empty', 'baseline-insert', 'ingest'].filter(runs)
  if (wanted.length === 0) return
  const servers = {}
  const databases = {}
  const cleanup = []
  try {
    for (const name of wanted) {
      if (name === 'baseline-empty') {
        servers[name] = await startChild('baseline-empty.mjs', { name: `${RUN_ID}-baseline-empty`, cpuProf: S.profile.has('baseline') })
      } else if (name === 'baseline-insert') {
        const db = await createDatabase('baseline_insert')
        databases[name] = db.name
        cleanup.push(() => dropDatabase(db.name))
        servers[name] = await startChild('baseline-insert.mjs', { name: `${RUN_ID}-baseline-insert`, env: { DATABASE_URL: db.url }, cpuProf: S.profile.has('baseline') })
      } else {
        const db = await createDatabase('ingest')
        databases[name] = db.name
        const prefix = createPrefix('ingest')
        cleanup.push(() => dropDatabase(db.name), () => deletePrefix(prefix))
        servers[name] = await startChild('api.mjs', { name: `${RUN_ID}-ingest-api`, env: childEnv(db, prefix), cpuProf: S.profile.has('api') })
      }
      log(`${name}: server pid ${servers[name].pid} on port ${servers[name].port}`)
    }
    const load = (name, duration) =>
      runLoad({ port: servers[name].port, nextBody: ordinaryBodies(), connections: S.connections, duration })
    for (const name of wanted) {
      log(`${name}: warm-up ${S.warmup} s`)
      await load(name, S.warmup)
    }
    const reps = Object.fromEntries(wanted.map((n) => [n, []]))
    for (let i = 0; i < S.reps; i++) {
      for (const name of wanted) {
        const r = await metered([servers[name].pid], databases[name], () => load(name, S.seconds))
        reps[name].push(r)
        log(`${name} rep ${i + 1}/${S.reps}: ${fmtInt(r.rps)} req/s, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}, errors ${r.errors + r.timeouts}, non-2xx ${r.non2xx}; ${fmtCpu(r.cpu)}`)
      }
    }
    for (const name of wanted) results[name] = combine(reps[name])
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()))
    for (const fn of cleanup) await fn().catch((err) => log(`cleanup: ${err.message}`))
  }
}

/** fulfilment_pending deliveries at 20 connections, answered after the grant (200) or at the wait budget (202). */
async function fulfilmentCase (results) {
  const db = await createDatabase('fulfilment')
  const prefix = createPrefix('fulfilment')
  const children = []
  try {
    for (let i = 0; i < S.fulfilmentWorkers; i++) {
      children.push(await startChild('worker.mjs', { name: `${RUN_ID}-fulfilment-worker${i + 1}`, env: childEnv(db, prefix), cpuProf: S.profile.has('worker') }))
    }
    const api = await startChild('api.mjs', { name: `${RUN_ID}-fulfilment-api`, env: childEnv(db, prefix), cpuProf: S.profile.has('api') })
    children.push(api)
    log(`fulfilment: api pid ${api.pid}, ${S.fulfilmentWorkers} worker process(es); warm-up ${S.warmup} s`)
    const load = (duration) =>
      runLoad({ port: api.port, nextBody: fulfilmentBodies(), connections: S.fulfilmentConnections, duration })
    await load(S.warmup)
    const reps = []
    for (let i = 0; i < S.reps; i++) {
      // Each repetition starts with no grant backlog left by the previous one.
      if (!await waitForIdleQueue(prefix)) log('fulfilment: grants queue still busy after 30 s')
      const r = await metered(children.map((c) => c.pid), db.name, () => load(S.seconds))
      r.cpu.api = r.cpu.byPid[api.pid]
      r.cpu.workers = r.cpu.procs - r.cpu.api
      reps.push(r)
      log(`fulfilment rep ${i + 1}/${S.reps}: ${fmtInt(r.rps)} req/s, status ${JSON.stringify(r.status)}, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}, errors ${r.errors + r.timeouts}; ${fmtCpu(r.cpu)}`)
    }
    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    try {
      await waitForIdleQueue(prefix)
      // Transactions per fulfilment (each statement outside a transaction is one): immune to the machine's load.
      const [check] = await sql`select (select count(*)::int from fulfilments) as fulfilments, (select count(*)::int from ledger_entries) as ledger, (select count(*)::int from fulfilments where state = 'granted') as granted,
        (select (xact_commit + xact_rollback)::float8 from pg_stat_database where datname = current_database()) as xacts`
      const combined = combine(reps)
      combined.cpu.api = median(reps.map((r) => r.cpu.api))
      combined.cpu.workers = median(reps.map((r) => r.cpu.workers))
      results.fulfilment = { ...combined, check }
    } finally {
      await sql.end()
    }
  } finally {
    await Promise.all(children.map((c) => c.stop()))
    await dropDatabase(db.name).catch((err) => log(`cleanup: ${err.message}`))
    await deletePrefix(prefix).catch((err) => log(`cleanup: ${err.message}`))
  }
}

/**
 * One drain: a backlog of `n` grant jobs (rows inserted by SQL, jobs with the real ids and options
 * added while the queue is paused), then `processes` worker processes; the clock runs from the
 * queue's resume until the ledger (or the baseline's table) holds `n` rows.
 */
async function drainOnce ({ kind, processes, n }) {
  const label = kind === 'baseline' ? 'drain_base' : `drain_${processes}p`
  const db = await createDatabase(label)
  const prefix = createPrefix(label)
  const sql = postgres(db.url, { max: 2, onnotice: () => {} })
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue(GRANTS_QUEUE, { connection, prefix })
  const children = []
  try {
    const ids = Array.from({ length: n }, () => nextFulfilmentId())
    if (kind === 'real') {
      for (let i = 0; i < ids.length; i += 2000) {
        const rows = ids.slice(i, i + 2000).map((id) => {
          const promoter = promoterId()
          return { id, unit: 'free_months', amount: 1, beneficiary: `promoter:${promoter}`, promoter_id: promoter, cust_id: null, promoter_email: 'promoter@example.com', first_event_id: String(id) }
        })
        await sql`insert into fulfilments ${sql(rows)}`
      }
    }
    await queue.pause()
    for (let i = 0; i < ids.length; i += 1000) {
      await queue.addBulk(ids.slice(i, i + 1000).map((id) => ({
        name: JOB.grant,
        data: { fulfilmentId: id },
        opts: { ...GRANT_JOB_OPTIONS, jobId: grantJobId(id) }
      })))
    }
    const script = kind === 'baseline' ? 'baseline-worker.mjs' : 'worker.mjs'
    for (let i = 0; i < processes; i++) {
      children.push(await startChild(script, { name: `${RUN_ID}-${label}-w${i + 1}`, env: childEnv(db, prefix), cpuProf: S.profile.has(kind === 'baseline' ? 'baseline' : 'worker') }))
    }
    const table = kind === 'baseline' ? 'bench_grants' : 'ledger_entries'
    const meter = cpuMeter(children.map((c) => c.pid), db.name)
    await meter.start()
    const started = process.hrtime.bigint()
    await queue.resume()
    let done = 0
    const deadline = Date.now() + S.drainTimeout * 1000
    while (done < n && Date.now() < deadline) {
      await sleep(50)
      done = (await sql.unsafe(`select count(*)::int as n from ${table}`))[0].n
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const used = await meter.stop()
    const cpu = { procs: used.procs / Math.max(1, done), pg: used.pg / Math.max(1, done) }
    const check = kind === 'real'
      ? (await sql`select count(*)::int as granted, (select count(*)::int from ledger_entries) as ledger, (select count(distinct fulfilment_id)::int from ledger_entries) as distinct_ledger from fulfilments where state = 'granted'`)[0]
      : { ledger: done }
    return { kind, processes, n, done, seconds, rate: done / seconds, complete: done >= n, check, cpu }
  } finally {
    await Promise.all(children.map((c) => c.stop()))
    await queue.close()
    await connection.quit().catch(() => connection.disconnect())
    await sql.end()
    await dropDatabase(db.name).catch((err) => log(`cleanup: ${err.message}`))
    await deletePrefix(prefix).catch((err) => log(`cleanup: ${err.message}`))
  }
}

async function drainCase (results) {
  const runsOf = { baseline: [], one: [], two: [] }
  // Interleaved, so that a neighbour's load hits every variant alike.
  for (let i = 0; i < S.drainReps; i++) {
    for (const [key, kind, processes] of [['baseline', 'baseline', 1], ['one', 'real', 1], ['two', 'real', 2]]) {
      const r = await drainOnce({ kind, processes, n: S.drainJobs })
      runsOf[key].push(r)
      log(`worker-drain ${key} rep ${i + 1}/${S.drainReps}: ${r.done}/${r.n} in ${r.seconds.toFixed(1)} s = ${fmtInt(r.rate)} jobs/s${r.complete ? '' : ' (TIMED OUT)'}; ${fmtCpu(r.cpu, 'job')}`)
    }
  }
  const rate = (key) => median(runsOf[key].map((r) => r.rate))
  const cpu = (key) => ({
    procs: median(runsOf[key].map((r) => r.cpu.procs)),
    pg: median(runsOf[key].map((r) => r.cpu.pg))
  })
  results['worker-drain'] = {
    runs: runsOf,
    cpu: { baseline: cpu('baseline'), one: cpu('one'), two: cpu('two') },
    baseline: rate('baseline'),
    one: rate('one'),
    two: rate('two'),
    complete: Object.values(runsOf).flat().every((r) => r.complete)
  }
}

/** A steady rate of mixed deliveries; RSS of the api and worker every second. */
async function soakCase (results) {
  const db = await createDatabase('soak')
  const prefix = createPrefix('soak')
  const children = []
  try {
    const worker = await startChild('worker.mjs', { name: `${RUN_ID}-soak-worker`, env: childEnv(db, prefix), cpuProf: S.profile.has('worker') })
    children.push(worker)
    const api = await startChild('api.mjs', { name: `${RUN_ID}-soak-api`, env: childEnv(db, prefix), cpuProf: S.profile.has('api') })
    children.push(api)
    const expected = S.soakDeliveries / S.soakRate
    const maxSeconds = Math.ceil(num('SOAK_MAX_SECONDS', expected * 1.5 + 20))
    log(`soak: ${fmtInt(S.soakDeliveries)} deliveries at ${fmtInt(S.soakRate)}/s (~${Math.round(expected)} s, stopped after ${maxSeconds} s at most), ${fmtPct(100 * S.soakFulfilmentShare)} fulfilments, api pid ${api.pid}, worker pid ${worker.pid}`)
    const samples = [{ t: 0, api: api.rssMb(), worker: worker.rssMb() }]
    // After a full GC in each process: idle (before the load), after warm-up (20% of the expected
    // run) and at the end of the load. Growth between the last two is what the processes keep.
    const memoryAfterGc = async () => {
      const [a, w] = await Promise.all([api.memory(), worker.memory()])
      return { api: a, worker: w }
    }
    const afterGc = { idle: await memoryAfterGc() }
    let warmProbe
    const r = await runLoad({
      port: api.port,
      nextBody: mixedBodies(S.soakFulfilmentShare),
      connections: S.soakConnections,
      amount: S.soakDeliveries,
      overallRate: S.soakRate,
      maxSeconds,
      onTick: (t) => {
        if (!warmProbe && t >= 0.2 * expected) warmProbe = memoryAfterGc().then((m) => { afterGc.warm = m }, (err) => log(`soak: memory probe failed: ${err.message}`))
        samples.push({ t, api: api.rssMb(), worker: worker.rssMb() })
        if (Math.round(t) % 10 === 0) log(`soak t=${Math.round(t)} s: api ${fmtMb(samples.at(-1).api)}, worker ${fmtMb(samples.at(-1).worker)}`)
      }
    })
    samples.push({ t: r.elapsed, api: api.rssMb(), worker: worker.rssMb() })
    await warmProbe
    afterGc.end = await memoryAfterGc()
    // RSS moves with each GC cycle: a window's median is steadier than one sample. "After warm-up" is
    // the median of the samples taken between 15% and 25% of the run, "at the end" that of the last 10%.
    const total = r.elapsed
    const windowOf = (from, to) => {
      const inside = samples.filter((s) => s.t >= from * total && s.t <= to * total)
      const use = inside.length ? inside : [samples.at(-1)]
      return {
        t: use[0].t,
        api: median(use.map((s) => s.api)),
        worker: median(use.map((s) => s.worker)),
        n: use.length
      }
    }
    const warm = windowOf(0.15, 0.25)
    const end = windowOf(0.9, 1)
    const peak = {
      api: Math.max(...samples.map((s) => s.api ?? 0)),
      worker: Math.max(...samples.map((s) => s.worker ?? 0))
    }
    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    let backlog
    try {
      backlog = (await sql`select (select count(*)::int from webhook_events) as inbox, (select count(*)::int from webhook_events where state = 'pending') as inbox_pending, (select count(*)::int from fulfilments) as fulfilments, (select count(*)::int from ledger_entries) as ledger`)[0]
    } finally {
      await sql.end()
    }
    log(`soak: ${fmtInt(r.answered)} answered in ${r.elapsed.toFixed(0)} s (${fmtInt(r.rps)}/s), status ${JSON.stringify(r.status)}, errors ${r.errors + r.timeouts}; RSS api ${fmtMb(warm.api)} -> ${fmtMb(end.api)}, worker ${fmtMb(warm.worker)} -> ${fmtMb(end.worker)}`)
    if (afterGc.warm) log(`soak: after a full GC, RSS api ${fmtMb(afterGc.warm.api.rss)} -> ${fmtMb(afterGc.end.api.rss)}, worker ${fmtMb(afterGc.warm.worker.rss)} -> ${fmtMb(afterGc.end.worker.rss)}`)
    results.soak = { ...r, samples, warm, end, peak, backlog, warmAt: warm.t, total, afterGc }
  } finally {
    await Promise.all(children.map((c) => c.stop()))
    await dropDatabase(db.name).catch((err) => log(`cleanup: ${err.message}`))
    await deletePrefix(prefix).catch((err) => log(`cleanup: ${err.message}`))
  }
}

// ---------------------------------------------------------------- report

function errorsCell (r) {
  return `${fmtInt(r.errors)} / ${fmtInt(r.non2xx)}`
}

function report (results, meta) {
  const rows = []
  const targets = []
  const row = (cells) => rows.push(`| ${cells.join(' | ')} |`)
  const be = results['baseline-empty']
  const bi = results['baseline-insert']
  const ing = results.ingest
  const ful = results.fulfilment
  const dr = results['worker-drain']
  const soak = results.soak

  if (be) row(['baseline-empty', `${fmtInt(be.rps)} req/s`, fmtMs(be.p50), fmtMs(be.p90), fmtMs(be.p99), errorsCell(be), `bare Fastify, JSON parse, 200; ${S.connections} conn; ${fmtCpu(be.cpu)}`, '—', '—'])
  if (bi) row(['baseline-insert', `${fmtInt(bi.rps)} req/s`, fmtMs(bi.p50), fmtMs(bi.p90), fmtMs(bi.p99), errorsCell(bi), `bare Fastify + one jsonb insert; ${S.connections} conn${be ? `; ${fmtPct(100 * bi.rps / be.rps)} of baseline-empty` : ''}; ${fmtCpu(bi.cpu)}`, '—', '—'])
  if (ing) {
    const share = bi ? 100 * ing.rps / bi.rps : null
    // Issue 15's target: at least a bare insert's throughput, for no more CPU (Node + Postgres).
    const cpuOk = !bi?.cpu || !ing.cpu || ing.cpu.procs + ing.cpu.pg <= bi.cpu.procs + bi.cpu.pg
    const ok = share === null ? null : share >= 100 && ing.p99 <= 50 && cpuOk && ing.errors === 0 && ing.non2xx === 0
    targets.push(['ingest', ok])
    row(['ingest', `${fmtInt(ing.rps)} req/s`, fmtMs(ing.p50), fmtMs(ing.p90), fmtMs(ing.p99), errorsCell(ing),
      `real api, reward_created/lead_signup; ${S.connections} conn; **${fmtPct(share)} of baseline-insert**${be ? `, ${fmtPct(100 * ing.rps / be.rps)} of baseline-empty` : ''}; ${fmtCpu(ing.cpu)}${bi?.cpu && ing.cpu ? ` (${(ing.cpu.procs / bi.cpu.procs).toFixed(1)}× and ${(ing.cpu.pg / bi.cpu.pg).toFixed(1)}× baseline-insert's)` : ''}`,
      '≥ 1.0× baseline-insert, p99 ≤ 50 ms, CPU/req ≤ baseline-insert\'s', pass(ok)])
  }
  if (ful) {
    const total = ful.answered || 1
    const s200 = 100 * (ful.status['200'] ?? 0) / total
    const s202 = 100 * (ful.status['202'] ?? 0) / total
    const other = ful.answered - (ful.status['200'] ?? 0) - (ful.status['202'] ?? 0)
    // Issue 15's target: CPU per fulfilment (api + worker + Postgres) ≤ 2.0 ms.
    const cpuAll = ful.cpu.api + ful.cpu.workers + ful.cpu.pg
    const ok = s200 >= 99 && ful.p99 <= 250 && ful.errors === 0 && cpuAll <= 2.0
    targets.push(['fulfilment', ok])
    row(['fulfilment', `${fmtInt(ful.rps)} req/s`, fmtMs(ful.p50), fmtMs(ful.p90), fmtMs(ful.p99), errorsCell(ful),
      `${S.fulfilmentConnections} conn, ${S.fulfilmentWorkers} worker process(es); **200: ${fmtPct(s200)}**, 202: ${fmtPct(s202)}, other: ${fmtInt(other)}; CPU/req: ${ful.cpu.api.toFixed(2)} ms api + ${ful.cpu.workers.toFixed(2)} ms worker + ${ful.cpu.pg.toFixed(2)} ms Postgres = **${cpuAll.toFixed(2)} ms**`,
      '≥ 99% answered 200, p99 ≤ 250 ms, CPU/req ≤ 2.0 ms', pass(ok)])
  }
  if (dr) {
    const pctBase = (x) => (dr.baseline ? 100 * x / dr.baseline : null)
    const okOne = dr.complete && pctBase(dr.one) >= 70
    const okTwo = dr.complete && dr.two > dr.one
    targets.push(['worker-drain ≥ 70%', okOne], ['worker-drain 2 > 1', okTwo])
    row(['worker-drain: BullMQ baseline', `${fmtInt(dr.baseline)} jobs/s`, '—', '—', '—', '—', `${fmtInt(S.drainJobs)} jobs, 1 process, concurrency ${S.workerConcurrency}; job = begin; insert; commit; ${fmtCpu(dr.cpu.baseline, 'job')}`, '—', '—'])
    row(['worker-drain: 1 process', `${fmtInt(dr.one)} grants/s`, '—', '—', '—', '—', `${fmtInt(S.drainJobs)} grants, built-in ledger; **${fmtPct(pctBase(dr.one))} of baseline**; ${fmtCpu(dr.cpu.one, 'grant')}`, '≥ 70% of baseline', pass(okOne)])
    row(['worker-drain: 2 processes', `${fmtInt(dr.two)} grants/s`, '—', '—', '—', '—', `${fmtPct(pctBase(dr.two))} of baseline; **${dr.one ? (dr.two / dr.one).toFixed(2) : '—'}× 1 process**; ${fmtCpu(dr.cpu.two, 'grant')}`, 'faster than 1 process', pass(okTwo)])
  }
  if (soak) {
    const errs = soak.errors + soak.timeouts + soak.non2xx
    const growth = { api: soak.end.api - soak.warm.api, worker: soak.end.worker - soak.warm.worker }
    const okErr = errs === 0
    const sent = soak.answered >= S.soakDeliveries ? '' : ` — **rate not sustained: stopped at the ${soak.total.toFixed(0)} s cap**`
    // Judged on RSS after a full GC (see servers/common.mjs); the sampled RSS is reported beside it.
    const gc = soak.afterGc
    const gcGrowth = gc.warm
      ? { api: gc.end.api.rss - gc.warm.api.rss, worker: gc.end.worker.rss - gc.warm.worker.rss }
      : null
    const okApi = gcGrowth ? gcGrowth.api <= 20 : null
    const okWorker = gcGrowth ? gcGrowth.worker <= 20 : null
    targets.push(['soak errors', okErr], ['soak RSS api', okApi], ['soak RSS worker', okWorker])
    const s202 = soak.status['202'] ?? 0
    const signed = (n) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} MB`
    row(['soak', `${fmtInt(soak.rps)} req/s`, fmtMs(soak.p50), fmtMs(soak.p90), fmtMs(soak.p99), `${fmtInt(soak.errors + soak.timeouts)} / ${fmtInt(soak.non2xx)}`,
      `${fmtInt(soak.answered)} of ${fmtInt(S.soakDeliveries)} deliveries at ${fmtInt(S.soakRate)}/s target, ${fmtPct(100 * S.soakFulfilmentShare)} fulfilments (${fmtInt(s202)} answered 202); ${soak.total.toFixed(0)} s${sent}`,
      'no error responses', pass(okErr)])
    for (const proc of ['api', 'worker']) {
      const at = (m) => (m ? `${fmtMb(m[proc].rss)} (heap ${fmtMb(m[proc].heapUsed)}, external ${fmtMb(m[proc].external)})` : '—')
      row([`soak: ${proc} RSS after a full GC`, gc.warm ? `${fmtMb(gc.warm[proc].rss)} → ${fmtMb(gc.end[proc].rss)}` : '—', '—', '—', '—', '—',
        `growth **${gcGrowth ? signed(gcGrowth[proc]) : 'not measured'}** (after warm-up, at 20% of the run → at the end of the load); idle ${at(gc.idle)}, after warm-up ${at(gc.warm)}, at the end ${at(gc.end)}`,
        '≤ 20 MB growth', pass(proc === 'api' ? okApi : okWorker)])
      row([`soak: ${proc} RSS sampled`, `${fmtMb(soak.warm[proc])} → ${fmtMb(soak.end[proc])}`, '—', '—', '—', '—',
        `growth ${signed(growth[proc])} (median of the samples over 15–25% of the run → over its last 10%, garbage not yet collected included); peak ${fmtMb(soak.peak[proc])}`, '—', '—'])
    }
  }

  const burst = results.burst
  if (burst) {
    const c = burst.check
    const exact = c.ledger === c.granted && c.distinct_ledger === c.ledger
    const ok = burst.fivexx === 0 && burst.errors + burst.timeouts === 0 && burst.max <= 10_000 &&
      burst.allGrantedAfter !== null && burst.allGrantedAfter <= S.burstGrantSeconds && exact &&
      burst.closedViaApi === burst.answered202
    targets.push(['burst', ok])
    row(['burst', `${fmtInt(burst.answered)} in ${burst.sentIn.toFixed(1)} s`, fmtMs(burst.p50), fmtMs(burst.p90), fmtMs(burst.p99), errorsCell(burst),
      `${S.burstConnections} conn, 1 worker; 5xx: ${fmtInt(burst.fivexx)}, slowest ${fmtMs(burst.max)}; 200: ${fmtInt(burst.status['200'] ?? 0)}, 202: ${fmtInt(burst.status['202'] ?? 0)} (${fmtInt(burst.closedViaApi)} of ${fmtInt(burst.answered202)} closed through the fake API); all granted after ${burst.allGrantedAfter === null ? '**not within the limit**' : `${burst.allGrantedAfter.toFixed(1)} s`}; ledger ${fmtInt(c.ledger)} = granted ${fmtInt(c.granted)} of ${fmtInt(c.fulfilments)}; CPU/fulfilment: ${burst.cpu.api.toFixed(2)} ms api + ${burst.cpu.worker.toFixed(2)} ms worker + ${burst.cpu.pg.toFixed(2)} ms Postgres`,
      `0 5xx, none over 10 s, all granted once within ${S.burstGrantSeconds} s, every 202 closed`, pass(ok)])
  }
  const pr = results.prune
  if (pr) {
    row(['prune', `${fmtInt(pr.report.payloads)} payloads in ${pr.pruneSeconds.toFixed(1)} s`, fmtMs(pr.during.p50), fmtMs(pr.during.p90), fmtMs(pr.during.p99), errorsCell(pr.during),
      `${fmtInt(S.pruneRows)} old inbox rows; ingest at ${fmtInt(S.pruneRate)}/s target over 20 conn during the prune: ${fmtInt(pr.during.rps)}/s, slowest ${fmtMs(pr.during.max)}; without a prune: p99 ${fmtMs(pr.quiet.p99)}; admin reads after it: ${Object.entries(pr.reads).map(([k, v]) => `${k} ${fmtMs(v.median)}`).join(', ')}`,
      'bounded time; ingest p99 reported', '—'])
  }

  const table = [
    '| case | throughput | p50 | p90 | p99 | errors / non-2xx | notes | target | result |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    ...rows
  ].join('\n')

  const details = []
  for (const name of ['baseline-empty', 'baseline-insert', 'ingest', 'fulfilment']) {
    const r = results[name]
    if (!r) continue
    details.push(`- ${name}: req/s per repetition ${r.reps.map((x) => fmtInt(x.rps)).join(', ')}; p99 ${r.reps.map((x) => fmtMs(x.p99)).join(', ')}; status counts ${JSON.stringify(r.status)}`)
  }
  if (results.fulfilment?.check) {
    const c = results.fulfilment.check
    details.push(`- fulfilment, after the queue drained: ${fmtInt(c.fulfilments)} fulfilments recorded, ${fmtInt(c.granted)} granted, ${fmtInt(c.ledger)} ledger rows (exactly once: ledger = granted); ${(c.xacts / Math.max(1, c.fulfilments)).toFixed(1)} Postgres transactions per fulfilment (the warm-up's included)`)
  }
  if (dr) {
    for (const [key, label] of [['baseline', 'BullMQ baseline'], ['one', '1 process'], ['two', '2 processes']]) {
      details.push(`- worker-drain ${label}: ${dr.runs[key].map((r) => `${fmtInt(r.rate)}/s (${r.done}/${r.n} in ${r.seconds.toFixed(1)} s${r.check.granted !== undefined ? `; granted ${r.check.granted}, ledger ${r.check.ledger}, distinct ${r.check.distinct_ledger}` : ''})`).join('; ')}`)
    }
  }
  if (soak) {
    const step = Math.max(1, Math.floor(soak.samples.length / 10))
    const series = soak.samples.filter((_, i) => i % step === 0 || i === soak.samples.length - 1)
    details.push(`- soak status counts ${JSON.stringify(soak.status)}; after the load: inbox ${fmtInt(soak.backlog.inbox)} rows (${fmtInt(soak.backlog.inbox_pending)} not yet processed by the worker), fulfilments ${fmtInt(soak.backlog.fulfilments)}, ledger ${fmtInt(soak.backlog.ledger)}`)
    details.push(`- soak RSS (t s: api MB / worker MB): ${series.map((s) => `${s.t.toFixed(0)}: ${s.api?.toFixed(0)}/${s.worker?.toFixed(0)}`).join(', ')}`)
  }

  const missed = targets.filter(([, ok]) => ok === false).map(([n]) => n)
  const md = [
    '# Benchmark results',
    '',
    `- date: ${meta.date}`,
    `- command: \`${meta.command}`,
    `- Node ${process.version} on ${os.platform()} ${os.arch()}; ${os.cpus().length} CPUs: ${[...new Set(os.cpus().map((c) => c.model))].join(', ')}; ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `- load average (1/5/15 min) at start ${meta.loadStart}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`,
    `- settings: ${S.seconds} s per repetition, ${S.reps} repetition(s), median of each figure (errors summed), ${S.warmup} s warm-up per server; drain ${fmtInt(S.drainJobs)} jobs × ${S.drainReps} repetition(s); soak ${fmtInt(S.soakDeliveries)} deliveries at ${fmtInt(S.soakRate)}/s over ${S.soakConnections} connections; worker concurrency ${S.workerConcurrency}; logs at ${process.env.BENCH_LOG_LEVEL ?? 'warn'}${S.profile.size ? `; **CPU profiling on (${[...S.profile].join(', ')}): figures are lower than unprofiled**` : ''}`,
    `- total run time ${meta.elapsed}`,
    '',
    `**Caveat:** the load generator (autocannon, in the bench process) shares this machine's ${os.cpus().length} cores with the server under test, its workers, Postgres and Redis, so every figure is a lower bound and the ratios to the baselines matter more than the absolute numbers.${meta.note ? ` ${meta.note}` : ''}`,
    '',
    table,
    '',
    missed.length ? `Missed targets: ${missed.join(', ')}.` : (targets.length ? 'All targets met.' : ''),
    '',
    '## Details',
    '',
    ...details,
    ''
  ].join('\n')
  return { md, table, missed }
}

// ---------------------------------------------------------------- main

async function main () {
  const startedAt = Date.now()
  const loadStart = os.loadavg().map((x) => x.toFixed(2)).join(' / ')
  mkdirSync(LOG_DIR, { recursive: true })
  const profilesBefore = new Set(S.profile.size ? safeList(PROFILE_DIR) : [])
  log(`run ${RUN_ID}: cases ${S.cases.join(', ')}; ${S.seconds} s × ${S.reps}; logs in ${LOG_DIR}`)
  await createTemplate()
  const results = {}
  const steps = [
    [['baseline-empty', 'baseline-insert', 'ingest'], throughputCases],
    [['fulfilment'], fulfilmentCase],
    [['worker-drain'], drainCase],
    [['soak'], soakCase],
    [['burst'], async (results) => { results.burst = await burstCase({ settings: S, log, profile: S.profile }) }],
    [['prune'], async (results) => { results.prune = await pruneCase({ settings: S, log }) }]
  ]
  const failures = []
  for (const [names, fn] of steps) {
    if (!names.some(runs)) continue
    try {
      await fn(results)
    } catch (err) {
      failures.push(`${names.join('/')}: ${err.message}`)
      log(`${names.join('/')} failed: ${err.stack ?? err}`)
    }
  }

  const elapsed = `${((Date.now() - startedAt) / 1000 / 60).toFixed(1)} min`
  const knobs = Object.entries(process.env)
    .filter(([k]) => /^(BENCH_|SOAK_|DRAIN_|FULFILMENT_|WORKER_CONCURRENCY)/.test(k) && !/^BENCH_(DATABASE_URL|REDIS_URL|NOTE)$/.test(k))
    .map(([k, v]) => (/^[\w./:,-]*$/.test(v) ? `${k}=${v}` : `${k}='${v.replaceAll("'", "'\\''")}'`)).sort()
  const note = process.env.BENCH_NOTE
  const command = [...knobs, 'pnpm bench'].join(' ') + (note ? '` (and `BENCH_NOTE`, the last sentence of the caveat)' : '`')
  const { md, table, missed } = report(results, { date: new Date().toISOString(), command, loadStart, elapsed, note })
  const complete = S.cases.length === ALL_CASES.length && S.profile.size === 0 && failures.length === 0
  const out = complete ? `${BENCH_DIR}RESULTS.md` : `${LOG_DIR}/RESULTS-partial.md`
  writeFileSync(out, md + (failures.length ? `\n## Failures\n\n${failures.map((f) => `- ${f}`).join('\n')}\n` : ''))
  writeFileSync(`${LOG_DIR}/last-run.json`, JSON.stringify({ settings: { ...S, profile: [...S.profile] }, results }, null, 2))
  console.log('\n' + table + '\n')
  if (missed.length) console.log(`Missed targets: ${missed.join(', ')}`)
  if (failures.length) console.log(`Failed: ${failures.join('; ')}`)
  console.log(`written to ${out}${complete ? '' : ' (partial or profiled run: bench/RESULTS.md left as it was)'}; ${elapsed}`)

  if (S.profile.size) {
    for (const f of safeList(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f) && f.includes(RUN_ID))) {
      console.log('\n' + summarise(`${PROFILE_DIR}/${f}`, 25))
    }
  }
  return failures.length ? 1 : 0
}

function safeList (dir) {
  try { return readdirSync(dir) } catch { return [] }
}

let cleaning
async function cleanup () {
  cleaning ??= (async () => {
    await stopAll()
    const errors = await cleanupAll()
    for (const e of errors) log(`cleanup: ${e.message}`)
  })()
  return cleaning
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping children, dropping databases, deleting keys`)
    cleanup().finally(() => process.exit(130))
  })
}

let code = 1
try {
  code = await main()
} catch (err) {
  log(`failed: ${err.stack ?? err}`)
} finally {
  await cleanup()
}
process.exit(code)

// `prune`: PRUNE_ROWS (1,000,000) old inbox rows seeded by SQL (30–60 days old, 2% fulfilments,
// 14 other types, some failed, as the console's read bench seeds them), then the real api takes
// ingest at PRUNE_RATE (300/s) over 20 connections: PRUNE_QUIET_SECONDS (5) without a prune, then
// for as long as `prune` (from @fp-webhooks/db, default batches) runs. Reports the prune's time,
// ingest p99 without and during it, and the admin listings timed on the big table afterwards.
import postgres from 'postgres'
import { createDb, prune, getGlance, listNeedsAttention, searchEvents } from '@fp-webhooks/db'
import { startChild } from '../lib/children.mjs'
import { REDIS_URL, RUN_ID, createDatabase, createPrefix, deletePrefix, dropDatabase } from '../lib/infra.mjs'
import { SECRET, runLoad } from '../lib/load.mjs'
import { ordinaryBodies } from '../lib/payloads.mjs'

const TYPES = ['lead_signup', 'lead_becomes_referral', 'promoter_accepted', 'promoter_signed_up', 'reward_created', 'new_customer', 'commission.updated', 'lead_cancelled', 'subscription_updated', 'reward_approved', 'payout_created', 'promoter_updated', 'lead_updated', 'customer_updated']

async function seed (sql, rows) {
  const chunk = 200_000
  for (let from = 1; from <= rows; from += chunk) {
    const to = Math.min(rows, from + chunk - 1)
    await sql`
      insert into webhook_events (source, event_id, event_type, received_at, payload, state, attempts, processed_at)
      select 'v1', 'old-' || g,
        case when g % 50 = 0 then 'fulfilment_pending' else (${TYPES}::text[])[1 + g % 14] end,
        now() - interval '60 days' + (g * interval '30 days' / ${rows}::int),
        case when g % 50 = 0 then jsonb_build_object('event', jsonb_build_object('id', g), 'data', jsonb_build_object('id', 5000000 + g / 50, 'unit', 'credits', 'amount', 1, 'promoter', jsonb_build_object('id', g % 1000, 'email', 'p' || g || '@example.com')))
          else jsonb_build_object('event', jsonb_build_object('id', g), 'data', jsonb_build_object('id', g, 'email', 'lead' || g || '@example.com', 'promoter', jsonb_build_object('id', g % 1000))) end,
        case when g % 997 = 0 then 'failed' else 'processed' end, 1, now() - interval '30 days'
      from generate_series(${from}::int, ${to}::int) g`
  }
  await sql`vacuum analyze webhook_events`
}

async function timeReads (db) {
  const cases = {
    'needs a human': () => listNeedsAttention(db, 50),
    'at a glance (48 h)': () => getGlance(db, 48),
    'events, newest': () => searchEvents(db, {}),
    'events by type': () => searchEvents(db, { type: 'reward_created' }),
    'events by type, 45 days back': () => searchEvents(db, { type: 'reward_created', to: new Date(Date.now() - 45 * 86400e3) }),
    'failed events': () => searchEvents(db, { state: 'failed' }),
    'events by id': () => searchEvents(db, { id: 'old-123456' })
  }
  const out = {}
  for (const [name, run] of Object.entries(cases)) {
    await run()
    const times = []
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      await run()
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    out[name] = { median: times[2], worst: times[4] }
  }
  return out
}

export async function pruneCase ({ settings, log }) {
  const db = await createDatabase('prune')
  const prefix = createPrefix('prune')
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  const { db: drizzle, close } = createDb(db.url, { max: 2, applicationName: 'bench-prune' })
  const children = []
  try {
    const seeded = Date.now()
    await seed(sql, settings.pruneRows)
    log(`prune: seeded ${settings.pruneRows} inbox rows in ${((Date.now() - seeded) / 1000).toFixed(0)} s`)
    const env = { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, FP_WEBHOOK_SECRET: SECRET, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' }
    const api = await startChild('api.mjs', { name: `${RUN_ID}-prune-api`, env })
    children.push(api)
    const load = (o) =>
      runLoad({ port: api.port, nextBody: ordinaryBodies(), connections: 20, overallRate: settings.pruneRate, ...o })
    await load({ duration: 2 })
    const quiet = await load({ duration: settings.pruneQuietSeconds })
    log(`prune: ingest without a prune ${Math.round(quiet.rps)}/s, p99 ${quiet.p99} ms`)
    const started = Date.now()
    const pruning = prune(drizzle, new Date(Date.now() - 30 * 86400e3))
    const during = await load({ duration: 600, until: pruning })
    const report = await pruning
    const pruneSeconds = (Date.now() - started) / 1000
    log(`prune: ${report.payloads} payloads in ${pruneSeconds.toFixed(1)} s; ingest during it ${Math.round(during.rps)}/s, p99 ${during.p99} ms, max ${during.max} ms, status ${JSON.stringify(during.status)}`)
    const reads = await timeReads(drizzle)
    return { quiet, during, report, pruneSeconds, reads }
  } finally {
    await close()
    await sql.end()
    await Promise.all(children.map((c) => c.stop()))
    await dropDatabase(db.name).catch((err) => log(`cleanup: ${err.message}`))
    await deletePrefix(prefix).catch((err) => log(`cleanup: ${err.message}`))
  }
}

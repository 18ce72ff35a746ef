// What the pause switch costs the grant hot path, run by hand (not part of `pnpm bench`):
//
//   npx tsc -b && node bench/src/pause-read.mjs          # PAUSE_READ_RUNS=5000 by default
//
// A grant job reads its fulfilment in one prepared statement; since the pause switch (issue 16) that
// statement also reads `grant_pauses` (an `exists` on its primary key). "without" is the statement
// as it was before, run prepared on the same one-connection pool; "with" is getFulfilmentForGrant
// today, with the switch off (no row) and with another unit paused (one row). Alternating batches,
// so the machine's load hits them alike.
import { createDb, getFulfilmentForGrant, pauseGrants, resumeGrants, upsertFulfilment } from '@fp-webhooks/db'
import { cleanupAll, createDatabase, createTemplate } from './lib/infra.mjs'

const RUNS = Number(process.env.PAUSE_READ_RUNS ?? 5000)
const BATCH = 250
const WITHOUT = `select "unit" as "unit", "amount" as "amount", "state" as "state", "api_close" as "apiClose", "answered_pending" as "answeredPending"
  from "fulfilments" where "fulfilments"."id" = $1`

function stats (samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return { mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, p50: at(0.5), p99: at(0.99) }
}

async function measure (variants) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let start = 0; start < RUNS; start += BATCH) {
    for (const [name, run] of Object.entries(variants)) {
      for (let i = start; i < Math.min(start + BATCH, RUNS); i++) {
        const t0 = process.hrtime.bigint()
        await run(i)
        samples[name].push(Number(process.hrtime.bigint() - t0) / 1000)
      }
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]))
}

await createTemplate()
try {
  const { url } = await createDatabase('pause_read')
  const { db, sql, close } = createDb(url, { max: 1 })
  for (let id = 1; id <= RUNS; id++) {
    await upsertFulfilment(db, { id, unit: 'credits', amount: 3, beneficiary: `promoter:${id}`, promoterId: id, custId: null, promoterEmail: null })
  }
  const id = (i) => i + 1
  const without = (i) => sql.unsafe(WITHOUT, [id(i)], { prepare: true })
  const withSwitch = (i) => getFulfilmentForGrant(db, id(i))
  await measure({ warmup: without, warmup2: withSwitch })
  const off = await measure({ 'without (nothing paused)': without, 'with the switch, nothing paused': withSwitch })
  await pauseGrants(db, { unit: 'points', by: 'bench' })
  const on = await measure({ 'without (another unit paused)': without, 'with the switch, another unit paused': withSwitch })
  await resumeGrants(db)
  await close()
  const rows = { ...off, ...on }
  console.log(`grant read, ${RUNS} runs each, one connection, µs (node ${process.version}; this machine has 2 cores shared with other work)`)
  console.log('| statement | mean | p50 | p99 |\n| --- | --- | --- | --- |')
  for (const [name, s] of Object.entries(rows)) console.log(`| ${name} | ${s.mean.toFixed(0)} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} |`)
} finally {
  const errors = await cleanupAll()
  if (errors.length) console.error(errors)
}

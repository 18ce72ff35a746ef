// Postgres backend CPU per statement of a fulfilment's life, run by hand (not part of `pnpm bench`):
//
//   npx tsc -b && node bench/src/pg-cost.mjs          # PG_COST_RUNS=2000 by default
//
// Each step runs PG_COST_RUNS times on a one-connection pool of a database of its own; the CPU its
// backend spent (from /proc) is divided by the runs. The steps are the statements a fulfilment
// costs Postgres in the product, in order, each on rows the step before left.
import { readFileSync } from 'node:fs'
import { createDb, createPostgresStore, grantFromLedgerIfUnit, upsertPromotersMarkingProcessed } from '@fp-webhooks/db'
import { cleanupAll, createDatabase, createTemplate } from './lib/infra.mjs'
import { processCpuMs } from './lib/cpu.mjs'

const RUNS = Number(process.env.PG_COST_RUNS ?? 2000)
const fixture = JSON.parse(readFileSync(new URL('../../packages/testing/fixtures/fulfilment_pending.json', import.meta.url), 'utf8'))

await createTemplate()
try {
  const { url } = await createDatabase('pg-cost')
  const handle = createDb(url, { max: 1 })
  const store = createPostgresStore(handle.db, { answerNotes: { maxWaitMs: 0 } })
  const [{ pid }] = await handle.sql`select pg_backend_pid() as pid`
  const ids = Array.from({ length: RUNS }, (_, i) => 5_000_000 + i)
  const inbox = []
  const delivery = (id) => ({
    source: 'v1',
    eventId: `ev-${id}`,
    eventType: 'fulfilment_pending',
    eventCreatedAt: new Date(),
    dedupeKey: null,
    payload: { ...fixture, event: { ...fixture.event, id }, data: { ...fixture.data, id } },
    fulfilment: { id, unit: 'free_months', amount: 3, beneficiary: `promoter:${id % 97}`, promoterId: id % 97, custId: null, promoterEmail: null }
  })
  const promoter = (id) => ({ id: id % 97, status: 'active', email: `p${id % 97}@example.com`, sourceAt: new Date(), sourceEventId: id })
  const steps = {
    'record (inbox row + fulfilment)': async (id) => { inbox.push((await store.record(delivery(id))).inboxId) },
    'grant (ledger row + state)': (id) => grantFromLedgerIfUnit(handle.db, id, true, ['free_months']),
    'carried row (promoter + processed), one per statement': (id, i) => upsertPromotersMarkingProcessed(handle.db, [promoter(id)], [inbox[i]]),
    'answer note (200), one per statement': (id) => store.noteAnswer({ fulfilmentId: id, eventId: `ev-${id}`, statusCode: 200, reason: null })
  }
  console.log(`${RUNS} runs per step; Postgres backend CPU per statement`)
  for (const [name, run] of Object.entries(steps)) {
    await run(ids[0] - 1, -1).catch(() => {}) // prepared first
    const before = processCpuMs(pid)
    const started = performance.now()
    for (let i = 0; i < RUNS; i++) await run(ids[i], i)
    console.log(`${name.padEnd(56)} ${((processCpuMs(pid) - before) / RUNS).toFixed(3)} ms CPU, ${((performance.now() - started) / RUNS).toFixed(3)} ms wall`)
  }
  await handle.close()
} finally {
  await cleanupAll()
}

// Worker (Node) and Postgres backend CPU per carried row, by batch size, run by hand (not part of
// `pnpm bench`):
//
//   npx tsc -b && node bench/src/carried-cost.mjs        # CARRIED_COST_ROWS=2000 per size
//
// The rows are `fulfilment_pending` deliveries recorded by the store, as the api records them; each
// batch is processed as the worker processes the rows its grant jobs carry (`createCarriedEvents`:
// one read, then one statement upserting the promoters and marking the rows processed), on a
// one-connection pool of a database of its own. Why the worker batches them over a window
// (docs/ingest.md, "A fulfilment").
import { readFileSync } from 'node:fs'
import { createDb, createPostgresStore } from '@fp-webhooks/db'
import { createHandlers } from '@fp-webhooks/worker'
import { createCarriedEvents } from '../../packages/worker/dist/processors/event.js'
import { cleanupAll, createDatabase, createTemplate } from './lib/infra.mjs'
import { processCpuMs } from './lib/cpu.mjs'

const ROWS = Number(process.env.CARRIED_COST_ROWS ?? 2000)
const SIZES = [1, 8, 32, 100]
const fixture = JSON.parse(readFileSync(new URL('../../packages/testing/fixtures/fulfilment_pending.json', import.meta.url), 'utf8'))
const silent = { debug () {}, info () {}, warn () {}, error () {}, child () { return silent } }

await createTemplate()
try {
  const { url } = await createDatabase('carried-cost')
  const handle = createDb(url, { max: 1 })
  const store = createPostgresStore(handle.db)
  const [{ pid }] = await handle.sql`select pg_backend_pid() as pid`
  const deps = { db: handle.db, handlers: createHandlers(), log: silent }
  let next = 7_000_000
  const record = async () => {
    const id = next++
    const promoter = { ...fixture.data.promoter, id: id % 1000 }
    const payload = { ...fixture, event: { ...fixture.event, id }, data: { ...fixture.data, id, promoter } }
    const fulfilment = { id, unit: 'free_months', amount: 3, beneficiary: `promoter:${promoter.id}`, promoterId: promoter.id, custId: null, promoterEmail: null }
    return (await store.record({ source: 'v1', eventId: `ev-${id}`, eventType: 'fulfilment_pending', eventCreatedAt: new Date(), dedupeKey: null, payload, fulfilment })).inboxId
  }
  /** Processes `rows` fresh rows in batches of `size`. @returns CPU per row */
  const run = async (size, rows) => {
    const ids = []
    for (let i = 0; i < rows; i++) ids.push(await record())
    const carried = createCarriedEvents(deps, { maxBatch: size, maxWaitMs: 60_000, maxWaiting: rows })
    const pg = processCpuMs(pid)
    const node = process.cpuUsage()
    for (let i = 0; i < rows; i += size) {
      for (const id of ids.slice(i, i + size)) await carried.process(id)
      await carried.flush()
    }
    const nodeMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(node))
    return { worker: nodeMs / rows, postgres: (processCpuMs(pid) - pg) / rows }
  }
  for (const size of SIZES) await run(size, 200) // warm-up: compiled code and prepared statements
  console.log(`${ROWS} rows per batch size; CPU per row`)
  for (const size of SIZES) {
    const cost = await run(size, ROWS)
    console.log(`batch of ${String(size).padStart(3)}: worker ${cost.worker.toFixed(3)} ms + Postgres ${cost.postgres.toFixed(3)} ms`)
  }
  const expected = (ROWS + 200) * SIZES.length
  const [{ n }] = await handle.sql`select count(*)::int as n from webhook_events where state = 'processed'`
  if (n !== expected) throw new Error(`${n} rows processed, expected ${expected}`)
  await store.flush?.()
  await handle.close()
} finally {
  await cleanupAll()
}

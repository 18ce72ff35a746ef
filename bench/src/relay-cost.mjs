// What the outbox relay costs per inbox row, the worker side of what the `ingest` case no longer
// pays on the request path (one Redis round trip per event-loop turn). Run by hand, not part of
// `pnpm bench`:
//
//   npx tsc -b && node bench/src/relay-cost.mjs        # RELAY_ROWS=20000 by default
//
// Stores RELAY_ROWS ordinary deliveries through the Postgres store (group commit, 50 in flight),
// then starts the relay (polling off, woken by nothing but its first drain) and times it from start
// until the outbox is empty: rows/s, and CPU per row of this process and of the Postgres backends
// serving the database. Redis' own CPU is not counted (as in the other cases).
import { countOutbox, createDb, createPostgresStore } from '@fp-webhooks/db'
import { createBullDispatcher } from '@fp-webhooks/queue'
import { startRelay } from '@fp-webhooks/worker'
import { cpus } from 'node:os'
import { cpuMeter } from './lib/cpu.mjs'
import { REDIS_URL, cleanupAll, createDatabase, createPrefix, createTemplate } from './lib/infra.mjs'

const ROWS = Number(process.env.RELAY_ROWS ?? 20_000)
const BATCH = Number(process.env.RELAY_BATCH ?? 500)

try {
  await createTemplate()
  const { name, url } = await createDatabase('relay')
  const handle = createDb(url, { max: 20 })
  const store = createPostgresStore(handle.db)
  const notes = 'x'.repeat(2000)
  let next = 0
  const deliver = async () => {
    while (next < ROWS) {
      const n = ++next
      await store.record({ source: 'v1', eventId: `relay-${n}`, eventType: 'lead_signup', eventCreatedAt: new Date(), dedupeKey: null, payload: { event: { id: n, type: 'lead_signup' }, data: { id: n, notes } } })
    }
  }
  await Promise.all(Array.from({ length: 50 }, deliver))
  const prefix = createPrefix('relay')
  const queue = createBullDispatcher({ redisUrl: REDIS_URL, prefix })
  await queue.ready()

  const meter = cpuMeter([process.pid], name)
  await meter.start()
  const started = performance.now()
  const relay = await startRelay({
    db: handle.db,
    log: { warn: (...args) => console.warn(...args), info: () => {}, debug: () => {} },
    pollMs: 0,
    batch: BATCH,
    enqueue: (rows) => queue.jobs.newEvents(rows)
  })
  await relay.drain()
  const seconds = (performance.now() - started) / 1000
  const cpu = await meter.stop()
  const left = await countOutbox(handle.db)
  const queued = await queue.queues.events.count()
  await relay.stop()
  await queue.close()
  await handle.close()
  console.log(`relay: ${ROWS} rows in ${seconds.toFixed(2)} s = ${Math.round(ROWS / seconds)} rows/s, batch ${BATCH}; ` +
    `CPU/row ${(cpu.procs / ROWS).toFixed(3)} ms Node + ${(cpu.pg / ROWS).toFixed(3)} ms Postgres; ` +
    `${queued} jobs queued, ${left} outbox rows left; ${cpus().length} CPUs`)
} finally {
  await cleanupAll()
}

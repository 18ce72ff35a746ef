import { countLedgerEntries, createDb, getFulfilment, upsertFulfilment, type Db, type Fulfilment } from '@fp-webhooks/db'
import { createRedisPrefix, createTestDatabase, fixture, sleep, startWorker as startTestWorker, TEST_REDIS_URL, waitFor } from '@fp-webhooks/testing'
import { fulfilmentFacts, type FulfilmentFacts, type FulfilmentPendingData } from 'fastify-firstpromoter'
import { pino } from 'pino'
import { createWorker, type CreateWorkerOptions, type FulfilmentWorker } from '../src/index.js'

export { TEST_REDIS_URL }

interface T {
  teardown: (fn: () => unknown) => void
}

export { fixture }

/** The path of a file in `test/fixtures/`, e.g. the worker-process script. */
export const fixturePath = (name: string) => new URL(name, new URL('./fixtures/', import.meta.url))

let nextId = 700_000_000 + Math.floor(Math.random() * 1_000_000) * 10
/** A fresh id (fulfilment, event, promoter…), unique within the test process. */
export const uniqueId = () => ++nextId

export { sleep, waitFor }

export interface TestContext {
  dbUrl: string
  prefix: string
  /** A Drizzle db on the test's own database (for seeding and assertions). */
  db: Db
  /** The raw postgres.js client behind `db`. */
  sql: ReturnType<typeof createDb>['sql']
}

/**
 * The test's own migrated database (dropped at teardown) and BullMQ prefix (keys deleted at
 * teardown), plus a small pool on that database.
 */
export async function setup (t: T): Promise<TestContext> {
  const { url } = await createTestDatabase(t)
  const prefix = createRedisPrefix(t)
  const handle = createDb(url, { max: 4, applicationName: 'worker-test' })
  // Teardowns run last-in first-out: workers (registered later) close before this pool,
  // and the pool before the database is dropped.
  t.teardown(() => handle.close())
  return { dbUrl: url, prefix, db: handle.db, sql: handle.sql }
}

export const silentLogger = () => pino({ level: 'silent' })

/** A worker on the test's database and prefix, with its own db pool, no schedules; closed at teardown. */
export const startWorker = (
  t: T,
  ctx: TestContext,
  options: Partial<CreateWorkerOptions> = {}
): Promise<FulfilmentWorker> =>
  startTestWorker(t, createWorker, ctx, options, { max: 5, applicationName: 'worker-under-test' })

export interface FulfilmentOverrides {
  id?: number
  unit?: string
  amount?: number
  promoterId?: number
  /** '' (the fixture's) means no cust id: the beneficiary is `promoter:<id>`. */
  custId?: string
  email?: string
}

/** `fulfilment_pending.data` from the fixture, with fresh ids unless given. */
export function fulfilmentData (overrides: FulfilmentOverrides = {}) {
  const data = fixture<{ data: Record<string, any> }>('fulfilment_pending.json').data
  data.id = overrides.id ?? uniqueId()
  if (overrides.unit !== undefined) { data.unit = overrides.unit; data.reward.unit = overrides.unit }
  if (overrides.amount !== undefined) data.amount = overrides.amount
  data.promoter.id = overrides.promoterId ?? uniqueId()
  if (overrides.custId !== undefined) data.promoter.cust_id = overrides.custId
  if (overrides.email !== undefined) data.promoter.email = overrides.email
  return data as FulfilmentJson
}

/** The parts of `fulfilment_pending.data` the tests touch (it is also a v1 payout's shape). */
export interface FulfilmentJson {
  id: number
  status: string
  amount: number
  unit: string
  promoter: { id: number, cust_id: string, email: string, [k: string]: unknown }
  [k: string]: unknown
}

/**
 * Records a fulfilment as the api would (no job is enqueued).
 * @returns its facts (id, unit, amount, beneficiary…)
 */
export async function seedFulfilment (
  db: Db,
  overrides: FulfilmentOverrides & { answeredPending?: boolean } = {}
): Promise<FulfilmentFacts> {
  const facts = fulfilmentFacts(fulfilmentData(overrides) as unknown as FulfilmentPendingData, true)
  await upsertFulfilment(db, facts, {
    firstEventId: String(uniqueId()),
    answeredPending: overrides.answeredPending ?? false
  })
  return facts
}

/** The fulfilment row; throws when it does not exist (a test bug). */
export async function fulfilment (db: Db, id: number): Promise<Fulfilment> {
  const row = await getFulfilment(db, id)
  if (!row) throw new Error(`fulfilment ${id} does not exist`)
  return row
}

/** Waits until the fulfilment is in `state` (default 10 s). */
export async function waitForState (db: Db, id: number, state: Fulfilment['state'], timeoutMs = 10_000): Promise<Fulfilment> {
  let row: Fulfilment | undefined
  await waitFor(async () => {
    row = await getFulfilment(db, id)
    return row?.state === state
  }, timeoutMs, () => `fulfilment ${id} to be ${state} (last seen ${row?.state ?? 'missing'}, last error ${row?.lastError ?? 'none'})`)
  return row!
}

export const ledgerCount = (db: Db, fulfilmentId: number) => countLedgerEntries(db, fulfilmentId)

/** Every ledger row, oldest first. */
export async function ledgerRows (ctx: TestContext) {
  return ctx.sql<Array<{ fulfilment_id: string, beneficiary: string, unit: string, amount: string }>>`
    select fulfilment_id::text, beneficiary, unit, amount::text from ledger_entries order by id`
}

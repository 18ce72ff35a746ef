import { createDb, type Db } from '@fp-webhooks/db'
import { pino, type Logger } from 'pino'
import { TEST_REDIS_URL } from './redis.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** The options every test worker gets (a subset of `@fp-webhooks/worker`'s `CreateWorkerOptions`). */
export interface TestWorkerOptions {
  db: Db
  redisUrl: string
  prefix?: string
  logger?: Logger
  sweepIntervalMs?: number
  reconcileIntervalMs?: number
}

/**
 * A worker on the test's database and BullMQ prefix, with a db pool of its own, silent, with no
 * schedules (sweep and reconcile run when the test calls them); closed at teardown.
 * `createWorker` is passed in: this package cannot depend on the worker, whose tests use it.
 */
export async function startWorker<O extends TestWorkerOptions, W extends { close: () => Promise<void> }> (
  t: Teardown,
  createWorker: (options: O) => Promise<W>,
  target: { dbUrl: string, prefix: string },
  options: Partial<O> = {},
  pool: { max: number, applicationName?: string } = { max: 10 }
): Promise<W> {
  const handle = createDb(target.dbUrl, { applicationName: 'test-worker', ...pool })
  const worker = await createWorker({
    db: handle.db,
    redisUrl: TEST_REDIS_URL,
    prefix: target.prefix,
    logger: pino({ level: 'silent' }),
    sweepIntervalMs: 0,
    reconcileIntervalMs: 0,
    ...options
  } as O)
  t.teardown(async () => {
    await worker.close()
    await handle.close()
  })
  return worker
}

import type { Db, Sql } from '@fp-webhooks/db'
import type { HandlerRegistry } from 'fastify-firstpromoter'
import type { Logger } from 'pino'
import type { GrantFunctions } from './grants.js'
import type { FulfilmentCloser } from './closer.js'
import type { PayoutSource } from './reconcile.js'

/** What every processor gets: plain values and functions, so tests can build them directly. */
export interface WorkerDeps {
  db: Db
  /** The postgres.js client under `db`, for the prepared hot-path statements. */
  sql: Sql
  log: Logger
  grants: GrantFunctions
  ledgerUnits: ReadonlySet<string>
  handlers: HandlerRegistry
  /** Set when FirstPromoter API credentials are configured. */
  closer: FulfilmentCloser | undefined
  canCloseViaApi: boolean
  payouts: PayoutSource | undefined
  enqueueGrant: (fulfilmentId: number) => Promise<void>
  enqueueClose: (fulfilmentId: number) => Promise<void>
  enqueueEvent: (inboxId: number, eventType: string) => Promise<void>
  metrics?: {
    granted: (unit: string) => void
    failed: (unit: string) => void
  }
}

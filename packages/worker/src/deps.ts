import type { Db } from '@fp-webhooks/db'
import type { Logger } from 'pino'
import type { GrantFunctions } from './grants.js'
import type { Handlers } from './handlers.js'
import type { FulfilmentCloser } from './closer.js'
import type { PayoutSource } from '@fp-webhooks/operations'
import type { V2CloseOptions, V2CommissionApi } from './v2/api.js'

/** What every processor gets: plain values and functions, so tests can build them directly. */
export interface WorkerDeps {
  db: Db
  log: Logger
  grants: GrantFunctions
  ledgerUnits: ReadonlySet<string>
  handlers: Handlers
  /** Set when FirstPromoter API credentials are configured. */
  closer: FulfilmentCloser | undefined
  payouts: PayoutSource | undefined
  /**
   * The v2 API, set when FP_API_V2_KEY and FP_ACCOUNT_ID are: v2 commissions are looked up,
   * closed (`mark_fulfilled`) and reconciled through it. Without it they are granted, never closed.
   */
  v2?: V2CommissionApi
  v2Close?: V2CloseOptions
  /** Through the queue package's one enqueue policy: asking again always yields a job that runs. */
  enqueueGrant: (fulfilmentId: number) => Promise<void>
  enqueueClose: (fulfilmentId: number) => Promise<void>
  enqueueEvent: (inboxId: number, eventType: string) => Promise<void>
  /** How long a grant job deferred by a pause waits before it looks at the switch again. */
  pauseRecheckMs: number
  /** The delay before the next attempt of a grant that failed `attemptsMade` times. */
  grantRetryDelay: (attemptsMade: number) => number
  metrics?: {
    granted: (unit: string) => void
    /** Failed for good: needs a human. */
    failed: (unit: string) => void
    /** A transient failure; the grant is retried. */
    retried?: (unit: string) => void
  }
}

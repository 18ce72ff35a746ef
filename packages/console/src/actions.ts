import type { Db } from '@fp-webhooks/db'
import { resubmitQuarantined, retryClose, retryFulfilment, type Injector } from '@fp-webhooks/operations'
import type { Jobs } from '@fp-webhooks/queue'
import type { ConsoleActions } from './options.js'

export interface OperationsActionsOptions {
  db: Db
  /** `createJobs(queues)` of `@fp-webhooks/queue` (a BullDispatcher's `jobs`). */
  jobs: Pick<Jobs, 'grantNow' | 'close'>
  /** The server the webhook route is registered in: a resubmitted delivery goes through it. */
  server: Injector
  /** The webhook route with a valid secret. */
  webhookUrl: string
}

/** The console's buttons on `@fp-webhooks/operations`: what the api's admin routes do too. */
export function operationsActions (options: OperationsActionsOptions): ConsoleActions {
  const { db, jobs, server, webhookUrl } = options
  return {
    retryFulfilment: async (id) => {
      const result = await retryFulfilment(db, jobs, id)
      if (!result) return null
      return result.retried ? { retried: true } : { retried: false, state: result.state }
    },
    retryClose: async (id) => {
      const result = await retryClose(db, jobs, id)
      if (!result) return null
      return result.retried ? { retried: true } : { retried: false, apiClose: result.apiClose }
    },
    resubmit: (id, body) => resubmitQuarantined(server, db, webhookUrl, id, body)
  }
}

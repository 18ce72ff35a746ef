import type { V2Client } from '@fp-webhooks/firstpromoter-api'

/** The v2 API calls the non-monetary flow makes (a `createV2Client`; tests may pass their own). */
export type V2CommissionApi = Pick<V2Client, 'getCommission' | 'listCommissions' | 'listAllCommissions' | 'markCommissionsFulfilled' | 'waitForBatch'>

export interface V2CloseOptions {
  /** Ids per `mark_fulfilled` call. More than 5 make FirstPromoter answer 202 and a batch to follow. Default 100. */
  batchSize?: number
  /** How often a 202 batch is polled (`GET /batch_processes/{id}`). Default 2000 ms. */
  pollIntervalMs?: number
}

export const DEFAULT_V2_CLOSE_BATCH_SIZE = 100

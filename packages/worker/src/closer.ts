import { FirstPromoterApiError, createV1Client, createV2Client, type RateLimiter } from '@fp-webhooks/firstpromoter-api'

/** Tells FirstPromoter a fulfilment was delivered, through whichever API is configured. */
export interface FulfilmentCloser {
  api: 'v1' | 'v2'
  close: (fulfilmentId: number) => Promise<void>
}

export interface ApiCredentials {
  v1?: { apiKey: string, baseUrl: string }
  v2?: { apiKey: string, accountId: string, baseUrl: string }
  limiter?: RateLimiter
  timeoutMs?: number
}

/**
 * v1 `PUT /payouts/update status=completed` when a v1 key is set (the fulfilment id is a v1 payout
 * id), else v2 `POST /payouts/mark_as_paid`. Undefined when neither is configured.
 */
export function createFulfilmentCloser (creds: ApiCredentials): FulfilmentCloser | undefined {
  if (creds.v1) {
    const client = createV1Client({ ...creds.v1, limiter: creds.limiter, timeoutMs: creds.timeoutMs })
    return { api: 'v1', close: async (id) => { await client.updatePayout({ id, status: 'completed' }) } }
  }
  if (creds.v2) {
    const client = createV2Client({ ...creds.v2, limiter: creds.limiter, timeoutMs: creds.timeoutMs })
    return { api: 'v2', close: async (id) => { await client.markPayoutsPaid([id]) } }
  }
  return undefined
}

export function isPermanentApiError (err: unknown): boolean {
  return err instanceof FirstPromoterApiError && !err.retryable
}

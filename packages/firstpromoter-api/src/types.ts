/** Payout statuses the v1 API documents; others are passed through as strings. */
export type PayoutStatus = 'pending' | 'processing' | 'completed' | (string & {})

/** The promoter nested in a v1 payout (trimmed to what a fulfilment engine keys on). */
export interface PayoutPromoter {
  id: number
  /** The integrator's own user id for the promoter; `""` or null when unset. */
  cust_id: string | null
  email: string | null
  [key: string]: unknown
}

/**
 * A v1 payout, the same shape as `fulfilment_pending.data`. Tolerant: FirstPromoter adds
 * fields freely, so only what a fulfilment engine relies on is typed.
 */
export interface Payout {
  id: number
  status: PayoutStatus
  /** A quantity in `unit`: cents for `cash`, else e.g. a number of free months. */
  amount: number
  unit: string
  date_paid?: string | null
  due_date?: string | null
  created_at?: string
  has_issues?: boolean
  promoter?: PayoutPromoter | null
  reward?: Record<string, unknown> | null
  campaign?: Record<string, unknown> | null
  [key: string]: unknown
}

/** A v2 payout (`GET /payouts`); v2 also knows `failed` and `cancelled`. */
export interface V2Payout {
  id: number
  status: PayoutStatus | 'failed' | 'cancelled'
  amount: number
  unit: string
  paid_at?: string | null
  promoter?: { id: number, email?: string | null, name?: string | null, [key: string]: unknown } | null
  campaign?: Record<string, unknown> | null
  [key: string]: unknown
}

/**
 * The batch status v2 answers to bulk actions (`mark_as_paid`, `mark_fulfilled`). With more
 * than 5 ids it comes with 202 and `status` still `pending`/`in_progress`.
 */
export interface V2BatchStatus {
  id?: number
  status?: 'pending' | 'in_progress' | 'completed' | 'failed' | 'stopped' | (string & {})
  total?: number
  processed_count?: number
  failed_count?: number
  processing_errors?: unknown[]
  [key: string]: unknown
}

/** The outcome of a v2 bulk action: 200 (done) or 202 (accepted, processed asynchronously). */
export interface V2BatchResult {
  status: number
  body: V2BatchStatus | null
}

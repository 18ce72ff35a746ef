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
  /** True for 202: the batch runs later; follow it with `waitForBatch(body.id)`. */
  async: boolean
}

/** A v2 commission status: `pending`, `approved` or `denied`; others are passed through. */
export type V2CommissionStatus = 'pending' | 'approved' | 'denied' | (string & {})

/**
 * A v2 commission (`GET /commissions`). Tolerant: only what a fulfilment engine reads is typed.
 * The promoter is under `promoter_campaign` (the link between a promoter and a campaign).
 */
export interface V2Commission {
  id: number
  status: V2CommissionStatus
  /** In the unit's smallest denomination: cents for `cash`, else e.g. points or months. */
  amount: number
  unit: string
  is_paid?: boolean | null
  created_at?: string | null
  promoter_campaign?: {
    id?: number
    campaign_id?: number
    promoter_id?: number
    promoter?: { id: number, email?: string | null, name?: string | null, [key: string]: unknown } | null
    campaign?: Record<string, unknown> | null
    [key: string]: unknown
  } | null
  /** The referred customer; `uid` is the integrator's own user id for them. */
  referral?: { id: number, email?: string | null, uid?: string | null, [key: string]: unknown } | null
  [key: string]: unknown
}

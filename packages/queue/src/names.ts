/** Queue names; with the BullMQ `prefix` they make the Redis keys. */
export const GRANTS_QUEUE = 'fp-grants'
export const EVENTS_QUEUE = 'fp-events'
export const MAINTENANCE_QUEUE = 'fp-maintenance'

export const JOB = {
  grant: 'grant',
  event: 'event',
  closeFulfilment: 'close-fulfilment',
  sweep: 'sweep',
  reconcile: 'reconcile'
} as const

/**
 * What a grant job carries: the fulfilment; its unit and amount only to show (the worker reads the
 * fulfilment row); `inboxId`, the inbox row of the delivery that recorded it, which the job
 * processes too (no event job is queued for that row).
 */
export interface GrantJobData {
  fulfilmentId: number
  unit?: string
  amount?: number
  /** The inbox row the job processes after the grant (the delivery that recorded the fulfilment). */
  inboxId?: number
  /** Announced with the outcome: the api that queued the job recognises its own grant (`announceGrantSettled`). */
  ticket?: string
}
/** A grant's reward, for the job's data. */
export interface GrantReward { unit: string, amount: number }
export interface EventJobData { inboxId: number, eventType: string }
export interface CloseJobData { fulfilmentId: number }
export interface ReconcileJobData { campaignId?: number }

/*
 * Deterministic job ids make enqueuing twice harmless. BullMQ ids must not be bare integers
 * nor contain ':', hence the prefixes.
 */
export const grantJobId = (fulfilmentId: number) => `grant-${fulfilmentId}`
export const eventJobId = (inboxId: number) => `event-${inboxId}`
export const closeJobId = (fulfilmentId: number) => `close-${fulfilmentId}`
/**
 * v2 commissions are closed in batches (`POST /commissions/mark_fulfilled` takes many ids): one
 * job collects every close due, so at most one runs at a time per prefix.
 */
export const V2_CLOSE_JOB_ID = 'close-v2-commissions'
/** A reconciliation asked for by hand (admin, CLI): one at a time; the schedule has its own ids. */
export const RECONCILE_JOB_ID = 'reconcile-requested'

export const DEFAULT_PREFIX = 'fpw'

/** The Redis key of the FirstPromoter API budget shared by every worker and CLI process. */
export const apiRateLimitKey = (prefix: string) => `${prefix}:fp-api-rate`

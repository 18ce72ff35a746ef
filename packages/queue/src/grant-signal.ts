import type { Redis } from 'ioredis'

/** How a grant job ended, as the worker announces it. */
export type GrantOutcome = 'granted' | 'failed'

/** The pub/sub channel on which workers announce finished grants, one per BullMQ prefix. */
export const grantSettledChannel = (prefix: string) => `${prefix}:grant-settled`

/** A grant announcement as read back: `ticket` is the one the job was queued with (`GrantJobData.ticket`). */
export interface GrantAnnouncement { fulfilmentId: number, outcome: GrantOutcome, ticket: string | null }

/** What a ticket may hold: it travels in a pub/sub message and is compared, never interpreted. */
const TICKET = '[A-Za-z0-9_-]{1,64}'
export const TICKET_PATTERN = new RegExp(`^${TICKET}$`)
const ANNOUNCEMENT = new RegExp(`^([0-9]{1,15}):(granted|failed)(?::(${TICKET}))?$`)

/**
 * Tells every waiting api process that a fulfilment's grant has finished, after its commit. One
 * PUBLISH of a few bytes: cheaper for both sides than BullMQ's event stream, which every waiting
 * process would read whole. A lost message only makes a waiter wait out its budget. With the
 * job's `ticket`, the api that queued the job may answer 200 on a `granted` without reading the
 * store (see the dispatcher's `waitForGrant`); any other waiter reads the store.
 */
export async function announceGrantSettled (
  redis: Redis,
  prefix: string,
  fulfilmentId: number,
  outcome: GrantOutcome,
  ticket?: string
): Promise<void> {
  const signed = ticket !== undefined && TICKET_PATTERN.test(ticket) ? `:${ticket}` : ''
  await redis.publish(grantSettledChannel(prefix), `${fulfilmentId}:${outcome}${signed}`)
}

/** An announcement, or null for a message that is not one. */
export function parseGrantSettled (message: string): GrantAnnouncement | null {
  const match = ANNOUNCEMENT.exec(message)
  return match ? { fulfilmentId: Number(match[1]), outcome: match[2] as GrantOutcome, ticket: match[3] ?? null } : null
}

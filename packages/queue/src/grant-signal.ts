import type { Redis } from 'ioredis'

/** How a grant job ended, as the worker announces it. */
export type GrantOutcome = 'granted' | 'failed'

/** The pub/sub channel on which workers announce finished grants, one per BullMQ prefix. */
export const grantSettledChannel = (prefix: string) => `${prefix}:grant-settled`

/**
 * Tells every waiting api process that a fulfilment's grant has finished, after its commit. One
 * PUBLISH of a few bytes: cheaper for both sides than BullMQ's event stream, which every waiting
 * process would read whole. A lost message only makes a waiter wait out its budget; the answer
 * always comes from the store.
 */
export async function announceGrantSettled (
  redis: Redis,
  prefix: string,
  fulfilmentId: number,
  outcome: GrantOutcome
): Promise<void> {
  await redis.publish(grantSettledChannel(prefix), `${fulfilmentId}:${outcome}`)
}

/** The fulfilment id of an announcement, or null for a message that is not one. */
export function parseGrantSettled (message: string): number | null {
  const match = /^([0-9]{1,15}):(granted|failed)$/.exec(message)
  return match ? Number(match[1]) : null
}

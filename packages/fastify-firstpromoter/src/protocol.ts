import type { FastifyBaseLogger } from 'fastify'
import type { NormalizedOptions } from './options.js'
import type { FulfilmentState, FulfilmentStatus, SettledAnswer } from './seams.js'
import { nextTicket } from './ticket.js'
import { withTimeout } from './timeout.js'

/** The answer the protocol decides on for a `fulfilment_pending` delivery. */
export interface FulfilmentDecision {
  /** 200 granted (FirstPromoter closes it), 202 still pending (it asks again later), 422 failed for good. */
  statusCode: 200 | 202 | 422
  state: 'granted' | 'pending' | 'failed'
  reason: string | null
  /** The store noted this answer in its history already (`SettledAnswer.noted`): no `noteAnswer`. */
  noted?: boolean
}

/** The 422's reason for a fulfilment failed without one recorded. */
export const FAILED_WITHOUT_REASON = 'grant failed'

const GRANTED: FulfilmentDecision = { statusCode: 200, state: 'granted', reason: null }

/** How the delivery being answered came: its event id, and its inbox row when the grant job processes it. */
export interface AnsweredDelivery {
  eventId: string
  reward?: { unit: string, amount: number }
  /** The store has just recorded the fulfilment (`RecordResult.fulfilmentCreated`). */
  created?: boolean
  /** The inbox row whose processing rides on the grant job (`RecordResult.processedWithGrant`). */
  carriedInboxId?: number
}

function fromState (state: FulfilmentState, failureReason: string | null): FulfilmentDecision | null {
  if (state === 'granted') return GRANTED
  if (state === 'failed') return { statusCode: 422, state: 'failed', reason: failureReason ?? FAILED_WITHOUT_REASON }
  return null
}

/** The integrator's pause switch says the grant cannot run now; unknown or slow counts as no. */
async function paused (opts: NormalizedOptions, unit: string | undefined): Promise<boolean> {
  const ask = opts.grantsPaused
  if (!ask || unit === undefined) return false
  try {
    return await withTimeout(Promise.resolve(ask(unit)), opts.enqueueTimeoutMs) === true
  } catch {
    return false
  }
}

/**
 * The `fulfilment_pending` status-code protocol (docs/firstpromoter-v1.md, section 1). 200 only
 * once the grant has committed; 202 while it is queued, running, retrying or paused (`grantsPaused`:
 * no wait then); 422 when it failed for good, so that FirstPromoter's retries end in `has_issues`
 * for a human to see.
 */
export async function answerFulfilment (
  opts: NormalizedOptions,
  recorded: FulfilmentStatus,
  log: FastifyBaseLogger,
  delivery: AnsweredDelivery
): Promise<FulfilmentDecision> {
  const settledAlready = fromState(recorded.state, recorded.failureReason)
  if (settledAlready) return settledAlready

  const id = recorded.id
  const { reward, created, carriedInboxId } = delivery
  const ticket = nextTicket()
  let queued = true
  try {
    await withTimeout(opts.dispatcher.enqueueGrant({
      fulfilmentId: id,
      ...(reward ? { unit: reward.unit, amount: reward.amount } : {}),
      ...(created === true ? { created } : {}),
      ...(carriedInboxId !== undefined ? { inboxId: carriedInboxId } : {}),
      ticket
    }), opts.enqueueTimeoutMs)
  } catch (err) {
    queued = false
    log.warn({ fulfilmentId: id, err: { message: (err as Error).message } }, 'firstpromoter: queue unreachable, grant left for the sweeper')
  }
  if (queued && opts.fulfilmentWaitMs > 0 && !await paused(opts, reward?.unit)) {
    const heard = await opts.dispatcher.waitForGrant(id, opts.fulfilmentWaitMs, ticket).catch((err: Error) => {
      log.warn({ fulfilmentId: id, err: { message: err.message } }, 'firstpromoter: could not wait for the grant')
    })
    // Our own job committed the grant: granted is final, no need to ask the store. The 200 is
    // noted afterwards (`noteAnswer`), as FirstPromoter is told it is done.
    if (heard === 'granted') return GRANTED
  }

  // The answer comes from the store, which also notes, in the same statement, that FirstPromoter
  // is about to hear "pending": a grant that commits after this still gets closed through the API.
  let settled: SettledAnswer | null
  try {
    // A note the store could only write after half the wait is left to us: we may have given up by then.
    const note = { eventId: delivery.eventId, noteBy: new Date(Date.now() + opts.storeTimeoutMs / 2) }
    settled = await withTimeout(opts.store.settleAnswer(id, note), opts.storeTimeoutMs)
  } catch (err) {
    log.warn({ fulfilmentId: id, err: { message: (err as Error).message } }, 'firstpromoter: could not read the fulfilment, answering pending')
    settled = null
  }
  const decision = (settled && fromState(settled.state, settled.failureReason)) ?? { statusCode: 202 as const, state: 'pending' as const, reason: null }
  return settled?.noted === true ? { ...decision, noted: true } : decision
}

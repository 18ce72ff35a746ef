import { V1_EXAMPLES, fixture } from '@fp-webhooks/testing'

export { fixture, fixtureNames } from '@fp-webhooks/testing'

/** A JSON document built from a fixture: mutable, loosely typed on purpose (tests bend it). */
export type Json = any

/** The documented examples, one per v1 event type (the v2 `commission.updated` is left out). */
export const EXAMPLE_FIXTURES = V1_EXAMPLES

/** Ordinary (non-fulfilment) v1 event types, each with an example fixture. */
export const ORDINARY_TYPES = [
  'lead_signup', 'lead_becomes_referral', 'new_customer', 'lead_cancelled',
  'promoter_signed_up', 'promoter_accepted', 'reward_created'
] as const
export type OrdinaryType = (typeof ORDINARY_TYPES)[number]

/** Fresh ids for one scenario (each scenario has its own database, so they only need to be unique in it). */
export function createIds (start = 100_000_000) {
  let next = start
  return () => ++next
}

/**
 * An ordinary event of `type` from its example, with a fresh event id and fresh entity ids (lead,
 * reward, promoter) so that no two deliveries dedupe against each other.
 */
export function ordinaryEvent (type: OrdinaryType, nextId: () => number, createdAt = new Date()): Json {
  const body = fixture(type)
  body.event.id = nextId()
  body.event.created_at = createdAt.toISOString()
  const data = body.data
  switch (type) {
    case 'lead_signup':
    case 'lead_becomes_referral':
    case 'new_customer':
    case 'lead_cancelled':
      data.id = nextId()
      if (data.promoter) data.promoter.id = nextId()
      break
    case 'reward_created':
      data.id = nextId()
      data.promoter.id = nextId()
      if (data.lead) data.lead.id = nextId()
      break
    case 'promoter_signed_up':
    case 'promoter_accepted':
      data.promoter.id = nextId()
      break
  }
  return body
}

export interface FulfilmentOptions {
  eventId?: number
  fulfilmentId?: number
  unit?: string
  amount?: number
  promoterId?: number
  /** '' means none: the beneficiary is then `promoter:<id>`. */
  custId?: string
}

/** A `fulfilment_pending` delivery from the example, with fresh event and fulfilment ids unless given. */
export function fulfilmentEvent (nextId: () => number, options: FulfilmentOptions = {}): Json {
  const body = fixture('fulfilment_pending')
  body.event.id = options.eventId ?? nextId()
  body.event.created_at = new Date().toISOString()
  body.data.id = options.fulfilmentId ?? nextId()
  if (options.unit !== undefined) { body.data.unit = options.unit; body.data.reward.unit = options.unit }
  if (options.amount !== undefined) body.data.amount = options.amount
  body.data.promoter.id = options.promoterId ?? nextId()
  if (options.custId !== undefined) body.data.promoter.cust_id = options.custId
  return body
}

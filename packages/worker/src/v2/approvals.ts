import { recordV2Fulfilment, v2FulfilmentId, type V2FulfilmentFacts, type WebhookEvent } from '@fp-webhooks/db'
import { commissionApproval, V2WebhookEnvelopeSchema, type V2CommissionApproval, type V2WebhookEnvelope } from 'fastify-firstpromoter'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { WorkerDeps } from '../deps.js'
import { factsFromApiCommission } from '@fp-webhooks/operations'

const envelope = TypeCompiler.Compile(V2WebhookEnvelopeSchema)

export type V2ApprovalOutcome =
  | { kind: 'none' }
  | { kind: 'recorded', fulfilmentId: number, inserted: boolean }
  /**
   * An approval the grant cannot be built for yet (no API to read what the payload lacks,
   * or the API does not know it).
   */
  | { kind: 'deferred', commissionId: number, reason: string }

/**
 * A stored v2 delivery that approves a non-monetary commission becomes a fulfilment (once per
 * commission, however many deliveries say so) and its grant is queued. What the payload lacks
 * is read from the v2 API first (docs/firstpromoter-v2.md, "Non-monetary commissions").
 * Idempotent: the event job may run it again.
 * @throws the API's error when the lookup fails (the event job retries)
 */
export async function fulfilV2Approval (deps: WorkerDeps, event: WebhookEvent): Promise<V2ApprovalOutcome> {
  if (event.source !== 'v2' || event.state === 'test' || !envelope.Check(event.payload)) return { kind: 'none' }
  const decision = commissionApproval(event.payload as V2WebhookEnvelope)
  if (!decision.approved) {
    if (decision.reason === 'denied') deps.log.info({ commissionId: decision.commissionId, eventId: event.eventId }, 'v2 commission denied: nothing is owed')
    return { kind: 'none' }
  }
  const facts = await completeFacts(deps, decision)
  if (typeof facts === 'string') {
    deps.log.warn({ commissionId: decision.commissionId, eventId: event.eventId, reason: facts }, 'v2 approval not granted yet; reconciliation will find it')
    return { kind: 'deferred', commissionId: decision.commissionId, reason: facts }
  }
  const status = await recordV2Fulfilment(deps.db, facts, { source: 'webhook', firstEventId: event.eventId })
  const fulfilmentId = v2FulfilmentId(facts.commissionId)
  if (status.state === 'pending' || status.state === 'granting') await deps.enqueueGrant(fulfilmentId)
  if (status.inserted) deps.log.info({ fulfilmentId, commissionId: facts.commissionId, unit: facts.unit, amount: facts.amount }, 'v2 commission approved: fulfilment recorded')
  return { kind: 'recorded', fulfilmentId, inserted: status.inserted }
}

/** The payload's facts, completed from `GET /commissions?ids[]=` when it lacks any; else why not. */
async function completeFacts (deps: WorkerDeps, a: V2CommissionApproval): Promise<V2FulfilmentFacts | string> {
  const fromPayload: V2FulfilmentFacts | null = a.unit !== null && a.amount !== null
    ? {
        commissionId: a.commissionId,
        unit: a.unit,
        amount: a.amount,
        promoterId: a.promoterId,
        promoterEmail: a.promoterEmail,
        referral: a.referral,
        party: a.beneficiary
      }
    : null
  if (!a.needsLookup) return fromPayload!
  if (!deps.v2) {
    // Without the API a grant whose unit or amount is unknown cannot be built; one that only lacks
    // a party's id is granted with what the payload says.
    return fromPayload ?? `the payload lacks ${a.missing.join(', ')} and no v2 API credentials are set to read it`
  }
  const commission = await deps.v2.getCommission(a.commissionId)
  if (commission === null) return 'the v2 API does not know this commission'
  const read = factsFromApiCommission(commission)
  if (read === null) return 'the v2 API says it is not a non-monetary commission with an amount'
  // The payload's own facts win where it has them (its e-mails); the API fills the gaps.
  return {
    ...read,
    promoterId: a.promoterId ?? read.promoterId,
    promoterEmail: a.promoterEmail,
    referral: a.referral === null
      ? read.referral
      : {
          id: a.referral.id ?? read.referral?.id ?? null,
          uid: a.referral.uid ?? read.referral?.uid ?? null,
          email: a.referral.email
        },
    party: a.beneficiary ?? read.party
  }
}

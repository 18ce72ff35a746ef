import type { Delivery, FirstPromoterDispatcher, FirstPromoterStore, FulfilmentStatus, QuarantineEntry } from '../src/index.js'

/**
 * A store and dispatcher of the kind a team writes for its own storage: plain maps, the grant done
 * by a function the test controls. The repo's Postgres store and BullMQ dispatcher are tested
 * against the real services in apps/api.
 */
export function memorySeams (grant: (id: number) => Promise<'granted' | 'failed' | 'pending'> = async () => 'granted') {
  const inbox = new Map<string, Delivery>()
  const fulfilments = new Map<number, FulfilmentStatus>()
  const quarantined: QuarantineEntry[] = []
  const answers: Array<{ fulfilmentId: number, statusCode: number }> = []
  const enqueued: string[] = []
  const store: FirstPromoterStore = {
    async record (delivery) {
      const key = delivery.dedupeKey ?? `${delivery.source}:${delivery.eventId}`
      const duplicate = inbox.has(key)
      if (!duplicate) inbox.set(key, delivery)
      let fulfilment: FulfilmentStatus | undefined
      if (delivery.fulfilment) {
        fulfilment = fulfilments.get(delivery.fulfilment.id) ?? { id: delivery.fulfilment.id, state: 'pending', failureReason: null }
        fulfilments.set(fulfilment.id, fulfilment)
      }
      return {
        inboxId: duplicate ? null : inbox.size,
        duplicate,
        ...(fulfilment ? { fulfilment: { ...fulfilment } } : {})
      }
    },
    async quarantine (entry) { quarantined.push(entry) },
    async settleAnswer (id) { return fulfilments.get(id) ?? null },
    async noteAnswer (a) { answers.push({ fulfilmentId: a.fulfilmentId, statusCode: a.statusCode }) }
  }
  const dispatcher: FirstPromoterDispatcher = {
    async enqueueEvent ({ inboxId }) { enqueued.push(`event-${inboxId}`) },
    async enqueueGrant ({ fulfilmentId }) {
      enqueued.push(`grant-${fulfilmentId}`)
      const f = fulfilments.get(fulfilmentId)!
      const outcome = await grant(fulfilmentId)
      if (outcome !== 'pending') fulfilments.set(fulfilmentId, { ...f, state: outcome, failureReason: outcome === 'failed' ? 'test says no' : null })
    },
    async waitForGrant () {}
  }
  return { store, dispatcher, inbox, fulfilments, quarantined, answers, enqueued }
}

export const SECRET = 'plugin-test-secret-0123456789'

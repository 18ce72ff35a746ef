// The smallest complete server: the plugin over a store and dispatcher of your own (here in
// memory; use @fp-webhooks/db and @fp-webhooks/queue for Postgres and BullMQ).
// Run: FP_WEBHOOK_SECRET=some-long-secret-value node --experimental-strip-types example/server.ts
import Fastify from 'fastify'
import fastifyFirstPromoter, { firstPromoterServerOptions, type FirstPromoterDispatcher, type FirstPromoterStore, type FulfilmentStatus } from 'fastify-firstpromoter'

const seen = new Set<string>()
const fulfilments = new Map<number, FulfilmentStatus>()

const store: FirstPromoterStore = {
  async record (delivery) {
    const key = delivery.dedupeKey ?? `${delivery.source}:${delivery.eventId}`
    const duplicate = seen.has(key)
    seen.add(key)
    const f = delivery.fulfilment
    if (f && !fulfilments.has(f.id)) fulfilments.set(f.id, { id: f.id, state: 'pending', failureReason: null })
    return { inboxId: duplicate ? null : seen.size, duplicate, ...(f ? { fulfilment: fulfilments.get(f.id)! } : {}) }
  },
  async quarantine (entry) { console.warn('rejected:', entry.reason) },
  async settleAnswer (id) { return fulfilments.get(id) ?? null },
  async noteAnswer () {}
}

const dispatcher: FirstPromoterDispatcher = {
  // Where a worker would pick the stored event up and run your handlers (with @fp-webhooks/worker:
  // `defineFirstPromoter({ handlers })`, loaded by the worker).
  async enqueueEvent (job) { console.info('stored event', job.eventType, 'inbox row', job.inboxId) },
  // Grant at once: a real grant runs in a worker, exactly once (see packages/worker).
  async enqueueGrant ({ fulfilmentId }) { fulfilments.set(fulfilmentId, { id: fulfilmentId, state: 'granted', failureReason: null }) },
  async waitForGrant () {}
}

// Router errors without the URL (it holds the secret), and timeouts for slow clients.
const app = Fastify({ logger: true, ...firstPromoterServerOptions() })
await app.register(fastifyFirstPromoter, { secrets: process.env.FP_WEBHOOK_SECRET ?? '', store, dispatcher })
await app.listen({ port: Number(process.env.PORT ?? 3000) })

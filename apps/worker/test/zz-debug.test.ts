import t from 'tap'
import { createPostgresStore } from '@fp-webhooks/db'
import { v1Delivery, type V1Envelope } from 'fastify-firstpromoter'
import { fixture, setup, startWorker, sleep } from './helper.js'
t.test('x', async (t) => {
  const ctx = await setup(t)
  const worker = await startWorker(t, ctx)
  const env = fixture('lead_signup.json')
  const r = await createPostgresStore(ctx.db).record(v1Delivery(env as V1Envelope))
  console.log(r)
  await worker.deps.enqueueEvent(r.inboxId!, 'lead_signup')
  await sleep(1500)
  console.log(await ctx.sql`select id, state, attempts, last_error from webhook_events`)
  console.log(await worker.queues.events.getJobCounts())
  const ids = [r.inboxId!]
  console.log(await ctx.sql`select count(*)::int as n from webhook_events where id = any(${ids}) and state = 'processed'`)
})

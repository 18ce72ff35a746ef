// Baseline: what a careful hand-written receiver does. Bare Fastify + postgres.js, one
// `insert … on conflict do nothing` of the body as jsonb per request, keyed on the event id, then 200.
// Env: DATABASE_URL.
import Fastify from 'fastify'
import postgres from 'postgres'
import { env, onStop, ready } from './common.mjs'

const sql = postgres(env('DATABASE_URL'), { max: 20, onnotice: () => {}, connection: { application_name: 'bench-baseline-insert' } })
const app = Fastify({ logger: false, bodyLimit: 1_048_576 })
app.post('/webhooks/firstpromoter/:secret', async (req, reply) => {
  const body = req.body
  const eventId = body?.event?.id
  if (eventId === undefined) return reply.code(400).send({ error: 'no event.id' })
  const rows = await sql`insert into bench_inbox (event_id, payload) values (${String(eventId)}, ${sql.json(body)}) on conflict (event_id) do nothing returning id`
  return { received: true, duplicate: rows.length === 0 }
})
await app.listen({ host: '127.0.0.1', port: 0 })
onStop(async () => {
  await app.close()
  await sql.end({ timeout: 5 })
})
ready({ port: app.server.address().port })

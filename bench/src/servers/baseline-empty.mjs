// Baseline: bare Fastify on the same route, parsing the same JSON body, answering 200. The ceiling.
import Fastify from 'fastify'
import { onStop, ready } from './common.mjs'

const app = Fastify({ logger: false, bodyLimit: 1_048_576 })
app.post('/webhooks/firstpromoter/:secret', async () => ({ received: true }))
await app.listen({ host: '127.0.0.1', port: 0 })
onStop(() => app.close())
ready({ port: app.server.address().port })

import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import t from 'tap'
import fastifyFirstPromoter from '../src/index.js'
import { SECRET, memorySeams } from './helper.js'

const v2 = (name: string) => JSON.parse(readFileSync(new URL(`../../testing/fixtures/v2/${name}`, import.meta.url), 'utf8'))

t.test('a v2 test delivery is answered 200, stored marked as a test, and never queued', async (t) => {
  const app = Fastify()
  const seams = memorySeams()
  await app.register(fastifyFirstPromoter, { secrets: SECRET, store: seams.store, dispatcher: seams.dispatcher })
  t.teardown(() => app.close())
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `/webhooks/firstpromoter/${SECRET}`, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) })

  for (const name of ['test-delivery.json', 'test-delivery-bare.json']) {
    const first = await post(v2(name))
    t.equal(first.statusCode, 200, `${name}: ${first.body}`)
    t.same(first.json(), { received: true, duplicate: false, test: true })
    t.same((await post(v2(name))).json(), { received: true, duplicate: true, test: true }, `${name}: sent again, stored once`)
  }
  const stored = [...seams.inbox.values()]
  t.equal(stored.length, 2)
  t.ok(stored.every((d) => d.test === true && d.source === 'v2' && !d.fulfilment), 'each stored as a test')
  t.same(seams.enqueued, [], 'no job queued for either')

  // A real event (no test flag) still is.
  t.equal((await post(v2('commission.updated.json'))).statusCode, 200)
  t.equal(seams.enqueued.length, 1)
  t.notOk([...seams.inbox.values()].at(-1)?.test)
})

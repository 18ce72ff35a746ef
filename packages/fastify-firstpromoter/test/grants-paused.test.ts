import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import fastifyFirstPromoter from '../src/index.js'
import { SECRET, memorySeams } from './helper.js'

const fulfilment = (id: number, unit: string) => {
  const body = JSON.parse(readFileSync(new URL('../../testing/fixtures/fulfilment_pending.json', import.meta.url), 'utf8'))
  body.data.id = id
  body.event.id = 5000 + id
  body.data.unit = unit
  return body
}

/** A server whose grant never finishes on its own: a wait lasts the whole `fulfilmentWaitMs`. */
async function server (t: Test, grantsPaused?: (unit: string) => boolean | Promise<boolean>) {
  const seams = memorySeams(async () => 'pending')
  const waits: number[] = []
  seams.dispatcher.waitForGrant = async (id, ms) => {
    waits.push(id)
    await new Promise((resolve) => setTimeout(resolve, ms))
  }
  const app = Fastify()
  await app.register(fastifyFirstPromoter, {
    secrets: [SECRET],
    store: seams.store,
    dispatcher: seams.dispatcher,
    fulfilmentWaitMs: 400,
    enqueueTimeoutMs: 100,
    grantsPaused
  })
  t.teardown(() => app.close())
  const deliver = async (id: number, unit: string) => {
    const res = await app.inject({ method: 'POST', url: `/webhooks/firstpromoter/${SECRET}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(fulfilment(id, unit)) })
    return { status: res.statusCode }
  }
  return { seams, waits, deliver }
}

t.test('a paused unit is answered 202 at once, its grant still queued; another unit waits as usual', async (t) => {
  const asked: string[] = []
  const { seams, waits, deliver } = await server(t, (unit) => { asked.push(unit); return unit === 'credits' })
  const paused = await deliver(1, 'credits')
  t.equal(paused.status, 202)
  t.ok(seams.enqueued.includes('grant-1'), 'its grant is queued all the same')
  const running = await deliver(2, 'free_months')
  t.equal(running.status, 202)
  t.same(waits, [2], 'only the unit not paused waited for its grant')
  t.same(asked, ['credits', 'free_months'], 'asked with the unit')
})

t.test('a switch that throws or does not answer in time counts as not paused', async (t) => {
  const { waits, deliver } = await server(t, async (unit) => {
    if (unit === 'credits') throw new Error('switch unreadable')
    return new Promise<boolean>(() => {})
  })
  t.equal((await deliver(3, 'credits')).status, 202)
  t.equal((await deliver(4, 'points')).status, 202)
  t.same(waits, [3, 4])
})

t.test('a granted fulfilment is answered 200 even while paused', async (t) => {
  const { seams, deliver } = await server(t, () => true)
  seams.fulfilments.set(5, { id: 5, state: 'granted', failureReason: null })
  t.equal((await deliver(5, 'credits')).status, 200)
})

t.test('grantsPaused must be a function', async (t) => {
  const seams = memorySeams()
  const app = Fastify()
  app.register(fastifyFirstPromoter, {
    secrets: [SECRET],
    store: seams.store,
    dispatcher: seams.dispatcher,
    grantsPaused: true as never
  })
  await t.rejects(async () => { await app.ready() }, /grantsPaused must be a function/)
})

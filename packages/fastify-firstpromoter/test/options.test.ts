import Fastify from 'fastify'
import t from 'tap'
import fastifyFirstPromoter, { type FastifyFirstPromoterOptions } from '../src/index.js'
import { normalizeOptions } from '../src/options.js'
import { SECRET, memorySeams } from './helper.js'

const seams = memorySeams()
const good: FastifyFirstPromoterOptions = { secrets: SECRET, store: seams.store, dispatcher: seams.dispatcher }

t.test('defaults', async (t) => {
  const o = normalizeOptions(good)
  t.same(o.secrets, [SECRET])
  t.equal(o.prefix, '/webhooks/firstpromoter')
  t.equal(o.bodyLimit, 1024 * 1024)
  t.equal(o.fulfilmentWaitMs, 2000)
  t.equal(o.enqueueTimeoutMs, 1000)
  t.equal(o.personalData, 'keep')
  t.equal(o.acceptV2, false)
  t.same(normalizeOptions({ ...good, secrets: ` ${SECRET} , other-secret-0123456789 ` }).secrets, [SECRET, 'other-secret-0123456789'], 'a comma list, trimmed')
})

t.test('each bad option is refused at registration, naming it', async (t) => {
  const bad: Array<[string, Partial<FastifyFirstPromoterOptions> | Record<string, unknown>, RegExp]> = [
    ['no secrets', { secrets: undefined }, /secrets must list at least one secret/],
    ['empty list', { secrets: [] }, /secrets must list/],
    ['blank string', { secrets: ' , ' }, /secrets must list/],
    ['short secret', { secrets: 'short' }, /at least 16 characters/],
    ['unsafe characters', { secrets: 'has/slash-0123456789abc' }, /URL-safe/],
    ['no store', { store: undefined }, /store must implement/],
    ['incomplete store', { store: { record: () => {} } }, /store must implement/],
    ['no dispatcher', { dispatcher: undefined }, /dispatcher must implement/],
    ['bad prefix', { prefix: 'webhooks' }, /prefix/],
    ['trailing slash', { prefix: '/webhooks/' }, /prefix/],
    ['negative wait', { fulfilmentWaitMs: -1 }, /fulfilmentWaitMs/],
    ['wait beyond FirstPromoter\'s patience', { fulfilmentWaitMs: 20_000 }, /fulfilmentWaitMs must be an integer from 0 to 10000/],
    ['body limit not a number', { bodyLimit: '1mb' }, /bodyLimit/],
    ['personal data', { personalData: 'forget' }, /personalData/],
    ['redact path', { redactPaths: [''] }, /redactPaths/]
  ]
  for (const [name, patch, message] of bad) {
    const app = Fastify()
    app.register(fastifyFirstPromoter, { ...good, ...patch } as FastifyFirstPromoterOptions)
    const err: unknown = await app.ready().then(() => null, (e: unknown) => e)
    t.ok(err instanceof TypeError, `${name}: a TypeError`)
    t.match(err, { code: 'FST_FIRSTPROMOTER_OPTIONS', message }, name)
    await app.close()
  }
})

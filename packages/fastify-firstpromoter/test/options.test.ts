import Fastify from 'fastify'
import t from 'tap'
import fastifyFirstPromoter, { type FastifyFirstPromoterOptions } from '../src/index.js'
import { normalizeOptions } from '../src/options.js'
import { SECRET, memorySeams } from './helper.js'

const seams = memorySeams()
const good: FastifyFirstPromoterOptions = { secrets: SECRET, store: seams.store, dispatcher: seams.dispatcher }
const TOKEN = 'v2-token-0123456789abcdef'

t.test('defaults', async (t) => {
  const o = normalizeOptions(good)
  t.same(o.secrets, [SECRET])
  t.equal(o.prefix, '/webhooks/firstpromoter')
  t.equal(o.bodyLimit, 1024 * 1024)
  t.equal(o.fulfilmentWaitMs, 2000)
  t.equal(o.enqueueTimeoutMs, 1000)
  t.equal(o.personalData, 'keep')
  t.equal(o.acceptV2, true, 'v2 is accepted by default')
  t.same(o.v2Auth, { header: null, basic: null, signingSecrets: null }, 'no v2 credentials by default')
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
    ['redact path', { redactPaths: [''] }, /redactPaths/],
    ['acceptV2 not a boolean', { acceptV2: 'yes' }, /acceptV2 must be a boolean/],
    ['v2 credentials with v2 off', { acceptV2: false, v2AuthHeader: 'x-token', v2AuthValues: TOKEN }, /set but acceptV2 is false/],
    ['signing secrets with v2 off', { acceptV2: false, v2SigningSecrets: TOKEN }, /set but acceptV2 is false/],
    ['header without values', { v2AuthHeader: 'x-token' }, /v2AuthValues must list/],
    ['values without header', { v2AuthValues: TOKEN }, /without v2AuthHeader/],
    ['header name not a token', { v2AuthHeader: 'x token', v2AuthValues: TOKEN }, /valid header name/],
    ['header name reserved', { v2AuthHeader: 'X-Event-Id', v2AuthValues: TOKEN }, /cannot be x-event-id/],
    ['header value short', { v2AuthHeader: 'x-token', v2AuthValues: 'short' }, /at least 16 visible ASCII/],
    ['header value with a control character', { v2AuthHeader: 'x-token', v2AuthValues: [`${TOKEN}\n`, `a\u0000${TOKEN}`] }, /at least 16 visible ASCII/],
    ['basic without a colon', { v2BasicAuth: 'fp-user' }, /user:password/],
    ['basic with an empty user', { v2BasicAuth: `:${TOKEN}` }, /user must be non-empty/],
    ['basic password short', { v2BasicAuth: 'fp-user:short' }, /password must be at least 16/],
    ['basic as a bad object', { v2BasicAuth: [{ user: 'fp-user' }] }, /user:password or \{ user, password \}/],
    ['basic with authorization as the header', { v2AuthHeader: 'Authorization', v2AuthValues: `Bearer ${TOKEN}`, v2BasicAuth: `fp:${TOKEN}` }, /cannot be authorization when v2BasicAuth/],
    ['signing secret short', { v2SigningSecrets: 'short' }, /v2SigningSecrets value must be at least 16/],
    ['signing secrets not strings', { v2SigningSecrets: [1] }, /v2SigningSecrets must hold strings/]
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

t.test('v2 credentials: lists or comma-separated strings, trimmed; header names lowercased', async (t) => {
  const o = normalizeOptions({
    ...good,
    v2AuthHeader: ' X-FP-Token ',
    v2AuthValues: ` ${TOKEN} , Bearer ${TOKEN}-old `,
    v2BasicAuth: ` fp:${TOKEN}:with-colon , fp-old:${TOKEN}-old `,
    v2SigningSecrets: [TOKEN, ` ${TOKEN}-old `]
  })
  t.same(o.v2Auth, {
    header: { name: 'x-fp-token', values: [TOKEN, `Bearer ${TOKEN}-old`] },
    basic: [`fp:${TOKEN}:with-colon`, `fp-old:${TOKEN}-old`],
    signingSecrets: [TOKEN, `${TOKEN}-old`]
  }, 'a password may hold colons: the user ends at the first')
  t.same(normalizeOptions({ ...good, v2BasicAuth: [{ user: 'fp', password: `${TOKEN},x` }] }).v2Auth.basic, [`fp:${TOKEN},x`], 'as objects, a password may hold a comma')
  t.same(normalizeOptions({ ...good, v2AuthHeader: '', v2AuthValues: ' , ', v2BasicAuth: '', v2SigningSecrets: [] }).v2Auth, { header: null, basic: null, signingSecrets: null }, 'empty means unset')
  t.equal(normalizeOptions({ ...good, acceptV2: false }).acceptV2, false)
})

t.test('an option error names the rule, never the value', async (t) => {
  const secretish = 'hunter2-but-longer-than-16'
  for (const patch of [{ v2AuthHeader: 'x-token', v2AuthValues: `${secretish}\u0001` }, { v2BasicAuth: `${secretish}` }, { v2BasicAuth: `:${secretish}` }]) {
    const err = (() => { try { normalizeOptions({ ...good, ...patch }) } catch (e) { return e as Error } })()
    t.ok(err, 'refused')
    t.notMatch(err?.message, 'hunter2')
  }
})

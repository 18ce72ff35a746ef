import * as crypto from 'node:crypto'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import type { FirstPromoterDispatcher, FirstPromoterStore } from 'fastify-firstpromoter'
import { captureLogs } from '@fp-webhooks/testing'
import { createIds, ordinaryEvent } from './helpers/payloads.js'
import { createRng, type Rng } from './helpers/random.js'
import { ADMIN_TOKEN, OLD_SECRET, SECRET, TEST_REDIS_URL, WEBHOOK_PREFIX, createEnv } from './helpers/stack.js'

interface Call { a: string, b: string, aLength: number, bLength: number }

/** Fastify's default: the router refuses a longer path parameter with 414 before any handler runs. */
const MAX_PARAM_LENGTH = 100

/** `node:crypto` with `timingSafeEqual` recorded; everything else is the real module. */
function recordingCrypto (calls: Call[]) {
  const real = crypto.timingSafeEqual
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      const bufA = Buffer.from(a.buffer, a.byteOffset, a.byteLength)
      const bufB = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
      calls.push({ a: bufA.toString('hex'), b: bufB.toString('hex'), aLength: bufA.length, bLength: bufB.length })
      return real(a, b)
    }
  }
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex')

/** Candidates of every length, near misses of ours, and our own secrets. */
function candidates (rng: Rng, secrets: readonly string[]): Array<{ label: string, segment: string, valid: boolean }> {
  const out: Array<{ label: string, segment: string, valid: boolean }> = []
  for (const length of [1, 2, 8, 15, 16, 31, 32, 33, 34, 64, 100, 255, 1000, 4000]) {
    const s = rng.string(length, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~')
    out.push({ label: `random, ${length} chars`, segment: s, valid: false })
  }
  for (const secret of secrets) {
    out.push({ label: 'one char short', segment: secret.slice(0, -1), valid: false })
    out.push({ label: 'one char more', segment: `${secret}x`, valid: false })
    out.push({ label: 'last char off', segment: secret.slice(0, -1) + (secret.endsWith('a') ? 'b' : 'a'), valid: false })
    out.push({ label: 'first char off', segment: (secret.startsWith('a') ? 'b' : 'a') + secret.slice(1), valid: false })
    out.push({ label: 'other case', segment: secret.toUpperCase(), valid: false })
    out.push({ label: 'the secret itself', segment: secret, valid: true })
  }
  out.push({ label: 'empty', segment: '', valid: false })
  out.push({ label: 'non-ASCII', segment: encodeURIComponent('sécret-ünïcødé-🎁'), valid: false })
  return out
}

function checkCalls (t: Test, calls: Call[], secrets: readonly string[], label: string): boolean {
  const digests = secrets.map(sha256).sort()
  const configured = calls.map((c) => c.a).sort()
  const ok = calls.length === secrets.length &&
    calls.every((c) => c.aLength === 32 && c.bLength === 32) &&
    JSON.stringify(configured) === JSON.stringify(digests) &&
    new Set(calls.map((c) => c.b)).size === 1
  t.ok(ok, `${label}: ${calls.length} timingSafeEqual calls (${secrets.length} secrets), ${calls.map((c) => `${c.aLength}/${c.bLength}`).join(' ')} bytes`, ok ? {} : { calls })
  return ok
}

t.test('through the plugin route: every candidate, whatever its length, costs one 32-byte comparison per configured secret', async (t) => {
  const rng = createRng(t)
  const calls: Call[] = []
  const plugin = await t.mockImport<typeof import('fastify-firstpromoter')>('fastify-firstpromoter', { 'node:crypto': recordingCrypto(calls) })
  const secrets = [SECRET, OLD_SECRET, 'third-secret-for-a-rotation-0123']
  // No storage needed: every candidate here is answered at the secret check or right after.
  const store: FirstPromoterStore = {
    record: async () => ({ inboxId: 1, duplicate: false }),
    quarantine: async () => {},
    settleAnswer: async () => null,
    noteAnswer: async () => {}
  }
  const dispatcher: FirstPromoterDispatcher = {
    enqueueEvent: async () => {},
    enqueueGrant: async () => {},
    waitForGrant: async () => {}
  }
  const app = Fastify()
  await app.register(plugin.default, { secrets, store, dispatcher })
  await app.ready()
  t.teardown(() => app.close())
  const body = JSON.stringify(ordinaryEvent('lead_signup', createIds(rng.int(1, 1000) * 1_000_000)))

  let requests = 0
  let failures = 0
  let routerRefused = 0
  for (const c of candidates(rng, secrets)) {
    calls.length = 0
    const res = await app.inject({ method: 'POST', url: `${WEBHOOK_PREFIX}/${c.segment}`, headers: { 'content-type': 'application/json' }, payload: body })
    requests++
    if (c.segment.length > MAX_PARAM_LENGTH) {
      // Refused by the router on the candidate's length alone, before any secret is looked at.
      t.equal(res.statusCode, 414, `${c.label}: 414 from the router`)
      t.equal(calls.length, 0, `${c.label}: no comparison at all`)
      routerRefused++
      continue
    }
    t.equal(res.statusCode, c.valid ? 200 : 404, `${c.label} (${c.segment.length} chars): ${c.valid ? 'accepted' : 'refused'}`)
    if (!checkCalls(t, calls, secrets, c.label)) failures++
  }

  // A secret the router could never pass (longer than its maxParamLength) is refused when the
  // plugin is registered; one of exactly that length works, with the same comparisons.
  const tooLong = Fastify()
  await t.rejects(async () => { await tooLong.register(plugin.default, { secrets: [SECRET, 'l'.repeat(MAX_PARAM_LENGTH + 1)], store, dispatcher }) },
    { code: 'FST_FIRSTPROMOTER_OPTIONS', message: /secret/ }, 'a secret longer than maxParamLength is refused at registration')
  await tooLong.close().catch(() => {})
  const longest = 'L'.repeat(MAX_PARAM_LENGTH)
  const edge = Fastify()
  await edge.register(plugin.default, { secrets: [SECRET, longest], store, dispatcher })
  t.teardown(() => edge.close())
  for (const segment of [longest, longest.slice(0, -1), 'l'.repeat(MAX_PARAM_LENGTH)]) {
    calls.length = 0
    const res = await edge.inject({ method: 'POST', url: `${WEBHOOK_PREFIX}/${segment}`, headers: { 'content-type': 'application/json' }, payload: body })
    requests++
    t.equal(res.statusCode, segment === longest ? 200 : 404, `a ${MAX_PARAM_LENGTH}-char secret, candidate of ${segment.length} chars: ${res.statusCode}`)
    if (!checkCalls(t, calls, [SECRET, longest], `${MAX_PARAM_LENGTH}-char secret, ${segment.length}-char candidate`)) failures++
  }
  t.comment(`plugin: ${requests} requests, ${secrets.length} secrets, ${routerRefused} refused by the router on length alone, ${failures} with another comparison pattern`)
})

t.test('through the running api: webhook secrets and the admin token, same pattern', async (t) => {
  const rng = createRng(t)
  const calls: Call[] = []
  // The built package (self-reference): the mock reaches node:crypto through its dist graph.
  const apiModule = await t.mockImport<typeof import('@fp-webhooks/api')>('@fp-webhooks/api', { 'node:crypto': recordingCrypto(calls) })
  const env = await createEnv(t)
  const config = apiModule.loadApiConfig({
    DATABASE_URL: env.dbUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: env.prefix,
    FP_WEBHOOK_SECRET: `${SECRET},${OLD_SECRET}`,
    ADMIN_TOKEN,
    FP_FULFILMENT_WAIT_MS: '0'
  })
  const apiLogs = captureLogs()
  const server = await apiModule.buildServer({ config }, { logStream: apiLogs.stream })
  t.teardown(() => server.close())
  await server.ready()
  const secrets = [SECRET, OLD_SECRET]
  const nextId = createIds(rng.int(1, 1000) * 1_000_000)

  let requests = 0
  for (const c of candidates(rng, secrets)) {
    calls.length = 0
    const res = await server.inject({ method: 'POST', url: `${WEBHOOK_PREFIX}/${c.segment}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(ordinaryEvent('lead_signup', nextId)) })
    requests++
    if (c.segment.length > MAX_PARAM_LENGTH) {
      t.same([res.statusCode, calls.length], [414, 0], `webhook, ${c.label}: 414 from the router, no comparison`)
      continue
    }
    t.equal(res.statusCode, c.valid ? 200 : 404, `webhook, ${c.label}: ${res.statusCode}`, res.statusCode >= 500 ? { logs: apiLogs.lines.filter((l) => l.includes('"level":50')).slice(-2) } : {})
    checkCalls(t, calls, secrets, `webhook, ${c.label}`)
  }
  // The admin token goes through the same matcher: bearer, basic, missing, of any length.
  for (const [label, header] of [
    ['right bearer', `Bearer ${ADMIN_TOKEN}`], ['short bearer', 'Bearer x'], ['long bearer', `Bearer ${'y'.repeat(3000)}`],
    ['bearer one char off', `Bearer ${ADMIN_TOKEN.slice(0, -1)}Z`], ['basic', `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}`],
    ['basic wrong', `Basic ${Buffer.from('ops:nope').toString('base64')}`], ['no header', '']
  ] as const) {
    calls.length = 0
    const res = await server.inject({ method: 'GET', url: '/admin/events', headers: header ? { authorization: header } : {} })
    requests++
    t.equal(res.statusCode, label === 'right bearer' || label === 'basic' ? 200 : 401, `admin, ${label}: ${res.statusCode}`)
    checkCalls(t, calls, [ADMIN_TOKEN], `admin, ${label}`)
  }
  t.comment(`api: ${requests} requests checked`)
})

import { connect } from 'node:net'
import { Writable } from 'node:stream'
import createError from '@fastify/error'
import Fastify, { type FastifyServerOptions } from 'fastify'
import t, { type Test } from 'tap'
import fastifyFirstPromoter, { firstPromoterServerOptions, DEFAULT_REQUEST_TIMEOUT_MS } from '../src/index.js'
import { SECRET, memorySeams } from './helper.js'

/** A team's own server with the plugin, listening, logs captured. */
async function teamServer (t: Test, options: FastifyServerOptions = {}) {
  const lines: string[] = []
  const stream = new Writable({ write (c, _e, cb) { lines.push(c.toString()); cb() } })
  const app = Fastify({ ...options, logger: { level: 'trace', stream } })
  const seams = memorySeams()
  await app.register(fastifyFirstPromoter, { secrets: SECRET, store: seams.store, dispatcher: seams.dispatcher })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, port: (app.server.address() as { port: number }).port, logs: () => lines.join('') }
}

/** One raw request on its own connection: the whole answer, as text. */
function raw (port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    const timer = setTimeout(() => socket.destroy(), 3000)
    socket.on('data', (c) => { text += c.toString('latin1') })
    socket.on('close', () => { clearTimeout(timer); resolve(text) })
    socket.on('error', () => {})
    socket.on('connect', () => socket.write(request))
  })
}

const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`
const ROUTER_ERRORS: Array<[string, string, number]> = [
  ['FST_ERR_BAD_URL', `/webhooks/firstpromoter/${SECRET}%`, 400],
  ['FST_ERR_MAX_PARAM_LENGTH', `/webhooks/firstpromoter/${SECRET}${'x'.repeat(100)}`, 414]
]

t.test("Fastify's defaults echo the URL, and with it the secret: the reason for these options", async (t) => {
  const { port } = await teamServer(t)
  for (const [code, path] of ROUTER_ERRORS) t.match(await raw(port, post(path)), SECRET, `${code} repeats the path by default`)
})

t.test('with firstPromoterServerOptions no router or client error repeats the URL', async (t) => {
  const { port, logs } = await teamServer(t, firstPromoterServerOptions())
  for (const [code, path, status] of ROUTER_ERRORS) {
    const answer = await raw(port, post(path))
    t.match(answer, new RegExp(`^HTTP/1.1 ${status} `), `${code}: ${status}`)
    t.match(answer, `"code":"${code}"`, `${code}: the code is named`)
    t.notMatch(answer, SECRET, `${code}: the secret is not repeated`)
  }
  const malformed = await raw(port, `POST /webhooks/firstpromoter/${SECRET} HTTP/9.9\r\nHost: x\r\n\r\n`)
  t.match(malformed, /^HTTP\/1.1 400 /, 'a malformed request: 400')
  t.notMatch(logs(), 'rawPacket', 'the raw request is not logged')
  t.match(logs(), /"code":"FST_ERR_BAD_URL"/, 'the refusal is logged by its code')
})

t.test("the plugin's error handler does not repeat the URL in a 4xx message", async (t) => {
  const Refused = createError('APP_REFUSED', 'Refused %s', 400)
  const app = Fastify()
  // A team's hook runs for the webhook route too; its error reaches the plugin's error handler.
  app.addHook('onRequest', async (req) => { if (req.headers['x-refuse'] !== undefined) throw new Refused(req.url) })
  const seams = memorySeams()
  await app.register(fastifyFirstPromoter, { secrets: SECRET, store: seams.store, dispatcher: seams.dispatcher })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: `/webhooks/firstpromoter/${SECRET}?again=${SECRET}`, headers: { 'x-refuse': '1', 'content-type': 'application/json' }, payload: '{}' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().code, 'APP_REFUSED')
  t.notMatch(res.body, SECRET, 'the secret is masked')
  t.match(res.json().message, 'Refused /webhooks/firstpromoter/[REDACTED]', 'the rest of the message is kept')
})

t.test('timeouts: defaults under the 15 s answer window, each configurable', async (t) => {
  const defaults = firstPromoterServerOptions()
  t.ok(DEFAULT_REQUEST_TIMEOUT_MS < 15_000)
  t.ok(defaults.requestTimeout! < 15_000 && defaults.connectionTimeout! < 15_000 && defaults.keepAliveTimeout! < 15_000)
  t.equal(defaults.http.connectionsCheckingInterval, 1000, 'timeouts are checked every second, not every 30 s')
  const custom = firstPromoterServerOptions({
    requestTimeoutMs: 2000,
    connectionTimeoutMs: 3000,
    keepAliveTimeoutMs: 4000
  })
  t.same([
    custom.requestTimeout,
    custom.connectionTimeout,
    custom.keepAliveTimeout,
    custom.http.headersTimeout,
    custom.http.connectionsCheckingInterval
  ], [2000, 3000, 4000, 2000, 500])
  t.same(firstPromoterServerOptions({ requestTimeoutMs: 0 }).http, {}, 'a request timeout of 0 leaves Node its own')
})

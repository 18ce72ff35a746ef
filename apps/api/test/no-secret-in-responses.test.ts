import { connect } from 'node:net'
import t from 'tap'
import { OLD_SECRET, SECRET, build, fixture, uniqueId } from './helper.js'

const ADMIN_TOKEN = 'admin-token-0123456789abcdef'

interface RawAnswer { status: number, head: string, body: string }

/** Writes `request` on a fresh socket and reads until the server closes it (or 5 s pass). */
function raw (port: number, request: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const head = split === -1 ? text : text.slice(0, split)
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head, body: split === -1 ? '' : text.slice(split + 4) })
    }
    const timer = setTimeout(done, 5000)
    socket.on('data', (c) => chunks.push(c))
    socket.on('close', done)
    socket.on('error', done)
    socket.on('connect', () => socket.write(request))
  })
}

const request = (method: string, path: string, { body = '', headers = '' } = {}) =>
  `${method} ${path} HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`

t.test('no response body, header or log line holds a configured secret, for every error that can carry the URL', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN, LOG_LEVEL: 'trace' } })
  await app.server.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.server.address() as { port: number }).port
  const delivery = JSON.stringify({ ...fixture('lead_signup.json'), event: { id: uniqueId(), type: 'lead_signup' } })
  const long = 'x'.repeat(120)

  // Each case names the error Fastify would answer with, repeating the URL, on today's defaults.
  const cases: Array<{ name: string, send: string | Buffer, status: number | ((s: number) => boolean) }> = [
    { name: 'FST_ERR_BAD_URL: a stray % after the secret', send: request('POST', `/webhooks/firstpromoter/${SECRET}%`, { body: delivery }), status: 400 },
    { name: 'FST_ERR_BAD_URL: a bad escape after the secret', send: request('POST', `/webhooks/firstpromoter/${SECRET}%zz`, { body: delivery }), status: 400 },
    { name: 'FST_ERR_BAD_URL: the old secret, then a bad escape', send: request('POST', `/webhooks/firstpromoter/${OLD_SECRET}%E0%A4%A`, { body: delivery }), status: 400 },
    { name: 'FST_ERR_BAD_URL: on an admin route', send: request('GET', `/admin/events/%${SECRET}`, { headers: `Authorization: Bearer ${ADMIN_TOKEN}\r\n` }), status: 400 },
    { name: 'FST_ERR_MAX_PARAM_LENGTH: secret and more in one segment', send: request('POST', `/webhooks/firstpromoter/${SECRET}${long}`, { body: delivery }), status: 414 },
    { name: 'FST_ERR_MAX_PARAM_LENGTH: on an admin route', send: request('GET', `/admin/events/${SECRET}${long}`, { headers: `Authorization: Bearer ${ADMIN_TOKEN}\r\n` }), status: 414 },
    { name: '404: the secret glued to the prefix', send: request('POST', `/webhooks/firstpromoter${SECRET}`, { body: delivery }), status: 404 },
    { name: '404: the secret at the root', send: request('POST', `/${SECRET}`, { body: delivery }), status: 404 },
    { name: '404: a segment after the secret', send: request('POST', `/webhooks/firstpromoter/${SECRET}/extra`, { body: delivery }), status: 404 },
    { name: '404: GET on the webhook', send: request('GET', `/webhooks/firstpromoter/${SECRET}`), status: 404 },
    { name: '404: the secret in the query of an unknown path', send: request('GET', `/nowhere?s=${SECRET}`), status: 404 },
    { name: '400: admin id not a number', send: request('GET', `/admin/events/${SECRET}`, { headers: `Authorization: Bearer ${ADMIN_TOKEN}\r\n` }), status: 400 },
    { name: 'content-length larger than the body, on the webhook', send: request('POST', `/webhooks/firstpromoter/${SECRET}`, { body: delivery }).replace(/Content-Length: \d+/, `Content-Length: ${Buffer.byteLength(delivery) + 50}`) + '\r\n', status: (s) => s === 0 || (s >= 400 && s < 500) },
    { name: 'client error: a bad HTTP version', send: `POST /webhooks/firstpromoter/${SECRET} HTTP/9.9\r\nHost: x\r\n\r\n`, status: (s) => s >= 400 && s < 500 },
    { name: 'client error: a header without a colon', send: `POST /webhooks/firstpromoter/${SECRET} HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n`, status: 400 },
    { name: 'client error: headers too large', send: `POST /webhooks/firstpromoter/${SECRET} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431 },
    { name: 'client error: a control character in the path', send: Buffer.from(`POST /webhooks/firstpromoter/${SECRET}\u0001 HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'), status: 400 }
  ]

  for (const c of cases) {
    const answer = await raw(port, c.send)
    const statusOk = typeof c.status === 'number' ? answer.status === c.status : c.status(answer.status)
    t.ok(statusOk, `${c.name}: ${answer.status} (${answer.body.slice(0, 160)})`)
    t.ok(answer.status < 500, `${c.name}: never a 5xx`)
    for (const [label, secret] of [['secret', SECRET], ['old secret', OLD_SECRET]]) {
      t.notOk(answer.body.includes(secret!), `${c.name}: the ${label} is not in the body`)
      t.notOk(answer.head.includes(secret!), `${c.name}: nor in any header`)
    }
  }

  const good = await raw(port, request('POST', `/webhooks/firstpromoter/${SECRET}`, { body: delivery }))
  t.equal(good.status, 200, 'a good delivery on the same server still gets 200')
  await app.server.close()
  const leaks = app.logs.lines.filter((line) => line.includes(SECRET) || line.includes(OLD_SECRET) || line.includes('rawPacket'))
  t.same(leaks.slice(0, 5), [], 'no log line holds a secret or the raw request, even at trace level')
  t.match(app.logs.text(), /"code":"FST_ERR_BAD_URL"/, 'the refused URLs are logged by their code')
})

import { connect } from 'node:net'
import t from 'tap'
import { loadApiConfig } from '../src/config.js'
import { SECRET, WEBHOOK, build } from './helper.js'

/** How long the test waits for the server to cut a client off before calling it a failure. */
const GIVE_UP_MS = 9000

interface Outcome {
  /** When the server closed the connection, from the first byte sent; null when it never did. */
  closedAfterMs: number | null
  status: number
}

/**
 * A client on a raw socket: sends `head`, then (when `trickle`) one byte of body every 200 ms, as a
 * slow or hostile sender would, until the server closes the connection or GIVE_UP_MS pass.
 */
function slowClient (port: number, head: string, trickle: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    let started = 0
    let drip: NodeJS.Timeout | undefined
    const finish = (closed: boolean) => {
      clearInterval(drip)
      clearTimeout(giveUp)
      socket.destroy()
      resolve({ closedAfterMs: closed ? Date.now() - started : null, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0) })
    }
    const giveUp = setTimeout(() => finish(false), GIVE_UP_MS)
    socket.on('data', (c) => { text += c.toString('latin1') })
    socket.on('error', () => {})
    socket.on('close', () => finish(true))
    socket.on('connect', () => {
      started = Date.now()
      if (head !== '') socket.write(head)
      if (trickle) drip = setInterval(() => { if (socket.writable) socket.write('x') }, 200)
    })
  })
}

const postHead = (path: string, length = 100_000) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"event":`

async function listening (t: Parameters<typeof build>[0], env: Record<string, string>) {
  const app = await build(t, { env })
  await app.server.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.server.address() as { port: number }).port
}

t.test('slow and idle clients are cut off within the configured timeouts', async (t) => {
  const port = await listening(t, { REQUEST_TIMEOUT_MS: '1500', CONNECTION_TIMEOUT_MS: '1500', KEEP_ALIVE_TIMEOUT_MS: '1000', FP_FULFILMENT_WAIT_MS: '0' })
  // The 404 for a wrong secret must close the connection by itself, long before the request timeout.
  const patient = await listening(t, { REQUEST_TIMEOUT_MS: '60000', CONNECTION_TIMEOUT_MS: '60000', KEEP_ALIVE_TIMEOUT_MS: '60000' })

  const [trickling, wrongSecret, idle, keptAlive, headersOnly] = await Promise.all([
    slowClient(port, postHead(WEBHOOK), true),
    slowClient(patient, postHead(`/webhooks/firstpromoter/${SECRET.slice(0, -1)}x`), true),
    slowClient(port, '', false),
    slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', false),
    slowClient(port, `POST ${WEBHOOK} HTTP/1.1\r\nHost: x\r\n`, true)
  ])
  t.comment(JSON.stringify({ trickling, wrongSecret, idle, keptAlive, headersOnly }))

  // Node checks request timeouts every few hundred ms here: allow that and a loaded machine.
  t.ok(trickling.closedAfterMs !== null && trickling.closedAfterMs >= 1000 && trickling.closedAfterMs < 6000, `a body trickled with the right secret is cut off after the 1.5 s request timeout (${trickling.closedAfterMs} ms)`)
  t.equal(trickling.status, 408, 'answered 408')
  t.equal(wrongSecret.status, 404, 'a wrong secret gets 404 before its body is read')
  t.ok(wrongSecret.closedAfterMs !== null && wrongSecret.closedAfterMs < 3000, `and the connection is closed at once, not left reading the trickle (${wrongSecret.closedAfterMs} ms)`)
  t.ok(idle.closedAfterMs !== null && idle.closedAfterMs >= 1000 && idle.closedAfterMs < 6000, `a connection that sends nothing is closed after 1.5 s (${idle.closedAfterMs} ms)`)
  t.equal(keptAlive.status, 200)
  t.ok(keptAlive.closedAfterMs !== null && keptAlive.closedAfterMs < 5000, `a kept-alive connection with no next request is closed after the 1 s keep-alive timeout (${keptAlive.closedAfterMs} ms)`)
  t.ok(headersOnly.closedAfterMs !== null && headersOnly.closedAfterMs < 6000, `headers trickled without an end are cut off too (${headersOnly.closedAfterMs} ms)`)
})

t.test('the timeouts default well under FirstPromoter\'s 15 s answer window', async (t) => {
  const app = await build(t)
  const { requestTimeout, keepAliveTimeout } = app.server.server
  t.equal(requestTimeout, 10_000)
  t.equal(keepAliveTimeout, 5000)
  t.equal(app.config.CONNECTION_TIMEOUT_MS, 10_000)
  t.equal((app.server.server as unknown as { timeout: number }).timeout, 10_000, 'the socket idle timeout')
})

t.test('a connection timeout that would cut off a fulfilment answer is refused at start', async (t) => {
  const env = { FP_WEBHOOK_SECRET: SECRET, FP_FULFILMENT_WAIT_MS: '9000', CONNECTION_TIMEOUT_MS: '5000' }
  t.throws(() => loadApiConfig(env), { name: 'ConfigError', message: /CONNECTION_TIMEOUT_MS.*FP_FULFILMENT_WAIT_MS/ })
  t.equal(loadApiConfig({ ...env, CONNECTION_TIMEOUT_MS: '12000' }).CONNECTION_TIMEOUT_MS, 12_000)
  t.throws(() => loadApiConfig({ FP_WEBHOOK_SECRET: SECRET, REQUEST_TIMEOUT_MS: '0' }), { name: 'ConfigError' }, 'no timeout at all is not an option')
})

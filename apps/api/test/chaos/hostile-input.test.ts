import { connect } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { generateCases, type HostileCase } from './helpers/hostile-cases.js'
import { createIds, ordinaryEvent } from './helpers/payloads.js'
import { createRng } from './helpers/random.js'
import { OLD_SECRET, SECRET, WEBHOOK, createEnv, is2xx, is5xx, send, startApi, tally } from './helpers/stack.js'

const BODY_LIMIT = 64 * 1024
const MEMORY_MARGIN = 48 * 1024 * 1024

/** `gc()`, exposed at run time when the process was not started with --expose-gc. */
function collector (): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === 'function') return exposed
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

function heapAfterGc (gc: () => void): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

/** Sends raw bytes on a fresh socket; resolves with the status of the first response (0 when none). */
function rawRequest (port: number, chunks: Array<string | Buffer>, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    const done = (status: number) => { clearTimeout(timer); socket.destroy(); resolve(status) }
    const timer = setTimeout(() => done(0), timeoutMs)
    socket.on('error', () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)))
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1')
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data)
      if (m) done(Number(m[1]))
    })
    socket.on('connect', () => { for (const c of chunks) socket.write(c) })
  })
}

t.test('≥ 1,000 generated hostile deliveries: only 4xx (or 2xx where acceptable), no 5xx, no crash, nothing stored when refused, memory back to baseline', async (t) => {
  const rng = createRng(t)
  const env = await createEnv(t)
  const api = await startApi(t, env, { listen: true, env: { FP_BODY_LIMIT: String(BODY_LIMIT), FP_FULFILMENT_WAIT_MS: '0', LOG_LEVEL: 'warn' } })
  let crashes = 0
  const onCrash = () => { crashes++ }
  process.on('uncaughtExceptionMonitor', onCrash)
  t.teardown(() => { process.off('uncaughtExceptionMonitor', onCrash) })
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort()
  const gc = collector()

  const cases = generateCases(rng, BODY_LIMIT)
  t.ok(cases.length >= 1000, `${cases.length} cases generated`)
  const inboxCount = async () => (await env.sql`select count(*)::int as n from webhook_events`)[0]!.n as number

  interface Outcome { c: HostileCase, status: number, delta: number, answer: string }
  const outcomes: Outcome[] = []
  const clientRefused: string[] = []
  let count = await inboxCount()
  let baseline = 0
  let peak = 0
  for (const [i, c] of cases.entries()) {
    if (i === 100) baseline = heapAfterGc(gc)
    let res
    try {
      res = await api.server.inject({ method: 'POST', url: c.url, headers: c.headers, payload: c.payload })
    } catch (err) {
      // The test client itself refused to build the request (an invalid URL or header).
      clientRefused.push(`${c.category}: ${c.name}: ${(err as Error).message}`)
      continue
    }
    const after = await inboxCount()
    outcomes.push({ c, status: res.statusCode, delta: after - count, answer: res.body.slice(0, 300) })
    count = after
    if (i % 100 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed)
  }

  const fiveXX = outcomes.filter((o) => is5xx(o.status))
  const wrongClass = outcomes.filter((o) => !is5xx(o.status) && (o.c.expect === 'reject' ? is2xx(o.status) || o.status < 400 : o.c.expect === 'accept' ? !is2xx(o.status) : !(is2xx(o.status) || (o.status >= 400 && o.status < 500))))
  const storedWhenRefused = outcomes.filter((o) => !is2xx(o.status) && o.delta !== 0)
  const notStoredWhenAccepted = outcomes.filter((o) => is2xx(o.status) && o.delta !== 1 && !o.answer.includes('"duplicate":true'))
  const brief = (list: Outcome[]) => list.slice(0, 8).map((o) => ({ case: `${o.c.category}: ${o.c.name}`, expect: o.c.expect, status: o.status, delta: o.delta, answer: o.answer.slice(0, 160) }))
  t.equal(fiveXX.length, 0, 'no hostile input answered 5xx', { cases: brief(fiveXX), kinds: [...new Set(fiveXX.map((o) => `${o.c.category}: ${o.c.name}`))] })
  t.equal(wrongClass.length, 0, 'each case answered in its class: 4xx when it must be refused, 2xx when it must be accepted', { cases: brief(wrongClass) })
  t.equal(storedWhenRefused.length, 0, 'nothing reached the inbox for a refused input', { cases: brief(storedWhenRefused) })
  t.equal(notStoredWhenAccepted.length, 0, 'every accepted input is exactly one new inbox row', { cases: brief(notStoredWhenAccepted) })
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeys, 'Object.prototype untouched')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')

  // A few through a real socket: what inject cannot show (early 413, chunked bodies, HTTP-level junk).
  const port = Number(new URL(api.baseUrl).port)
  const body = JSON.stringify(ordinaryEvent('lead_signup', createIds(rng.int(1, 1000) * 1_000_000)))
  const head = (extra: string) => `POST ${WEBHOOK} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}\r\n`
  const chunked = (n: number) => { const c = Buffer.alloc(n, 'x'); return [`${n.toString(16)}\r\n`, c, '\r\n'] as Array<string | Buffer> }
  const socketCases: Array<{ name: string, chunks: Array<string | Buffer>, expect: (s: number) => boolean }> = [
    { name: 'declared 10 MiB, sent 1 KiB', chunks: [head('Content-Length: 10485760\r\n'), 'x'.repeat(1024)], expect: (s) => s === 413 },
    { name: 'chunked body over the limit', chunks: [head('Transfer-Encoding: chunked\r\n'), ...chunked(40_000), ...chunked(40_000), '0\r\n\r\n'], expect: (s) => s === 413 },
    { name: 'chunked valid body', chunks: [head('Transfer-Encoding: chunked\r\n'), `${Buffer.byteLength(body).toString(16)}\r\n`, body, '\r\n0\r\n\r\n'], expect: (s) => s === 200 },
    { name: 'malformed request line', chunks: ['POST /webhooks/ firstpromoter HTTP/9.9\r\n\r\n'], expect: (s) => s >= 400 && s < 500 },
    { name: 'header without colon', chunks: [`POST ${WEBHOOK} HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n`], expect: (s) => s >= 400 && s < 500 },
    { name: '20 KiB header', chunks: [head(`X-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n`), '{}'], expect: (s) => s === 431 || s === 400 },
    { name: 'content-length and chunked both', chunks: [head('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), '0\r\n\r\n'], expect: (s) => s >= 400 && s < 500 },
    { name: 'body shorter than content-length, then close', chunks: [head('Content-Length: 500\r\n'), '{"event":'], expect: (s) => s === 0 || (s >= 400 && s < 500) },
    { name: 'wrong secret', chunks: [`POST /webhooks/firstpromoter/${SECRET.slice(0, -1)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`, body], expect: (s) => s === 404 }
  ]
  const socketResults: Array<{ name: string, status: number }> = []
  for (const sc of socketCases) {
    const status = await rawRequest(port, sc.chunks, sc.name.includes('then close') ? 1500 : 5000)
    socketResults.push({ name: sc.name, status })
    t.ok(sc.expect(status), `socket: ${sc.name} → ${status || 'no answer (connection closed)'}`)
  }
  const viaFetch = await send(api, JSON.stringify(ordinaryEvent('reward_created', createIds(rng.int(1, 1000) * 1_000_000 + 500_000))), { path: `/webhooks/firstpromoter/${OLD_SECRET}` })
  t.equal(viaFetch.statusCode, 200, 'socket: a valid delivery with the old secret still accepted afterwards')

  const health = await api.server.inject({ method: 'GET', url: '/healthz' })
  t.equal(health.statusCode, 200, 'the server is alive at the end')
  t.equal(crashes, 0, 'no uncaught exception in the process')
  const after = heapAfterGc(gc)
  t.ok(after - baseline < MEMORY_MARGIN, `heap back near its baseline after GC: ${(baseline / 1048576).toFixed(1)} MiB → ${(after / 1048576).toFixed(1)} MiB (margin ${MEMORY_MARGIN / 1048576} MiB)`)
  const errorLines = api.logs.lines.filter((l) => /"level":(50|60)/.test(l)).length

  const byCategory: Record<string, Record<number, number>> = {}
  for (const o of outcomes) {
    byCategory[o.c.category] = {
      ...(byCategory[o.c.category] ?? {}),
      [o.status]: (byCategory[o.c.category]?.[o.status] ?? 0) + 1
    }
  }
  const [quarantined] = await env.sql`select count(*)::int as n from quarantine`
  t.comment(`generated bad inputs: ${cases.length} via inject (${clientRefused.length} refused by the test client), ${socketCases.length + 1} via a real socket`)
  for (const [category, statuses] of Object.entries(byCategory)) t.comment(`  ${category}: ${JSON.stringify(statuses)}`)
  t.comment(`answers: ${JSON.stringify(tally(outcomes.map((o) => ({ statusCode: o.status }))))}; socket: ${JSON.stringify(socketResults.map((r) => r.status))}`)
  t.comment(`accepted into the inbox: ${outcomes.filter((o) => is2xx(o.status)).length}; quarantined: ${quarantined!.n}; stored when refused: ${storedWhenRefused.length}`)
  t.comment(`5xx: ${fiveXX.length}, wrong class: ${wrongClass.length}, crashes: ${crashes}, error log lines: ${errorLines}`)
  t.comment(`memory: heapUsed baseline ${(baseline / 1048576).toFixed(1)} MiB, peak sampled ${(peak / 1048576).toFixed(1)} MiB, after ${(after / 1048576).toFixed(1)} MiB (Δ ${((after - baseline) / 1048576).toFixed(1)} MiB); rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`)
  if (clientRefused.length > 0) t.comment(`refused by the client: ${clientRefused.slice(0, 3).join(' | ')}`)
})

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRedisPrefix, createTestDatabase, TEST_REDIS_URL } from '@fp-webhooks/testing'
import { createDb } from '@fp-webhooks/db'
import t from 'tap'
import { SECRET, fixture, uniqueId, waitFor } from './helper.js'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

t.test('SIGTERM during a burst: every 2xx has its inbox row, and the api exits 0 within its drain time', async (t) => {
  const { url } = await createTestDatabase(t)
  const prefix = createRedisPrefix(t)
  const child = spawn(process.execPath, [BIN], {
    env: { ...process.env, DATABASE_URL: url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, FP_WEBHOOK_SECRET: SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '5000' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  await waitFor(() => /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.test(out), 15_000, 'api listening')
  const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]

  const accepted: string[] = []
  const statuses = new Map<string, number>()
  let sent = 0
  const sendOne = async () => {
    const body = fixture('reward_created.json')
    body.event.id = uniqueId()
    body.data.id = uniqueId()
    sent++
    try {
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/firstpromoter/${SECRET}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
      statuses.set(String(res.status), (statuses.get(String(res.status)) ?? 0) + 1)
      if (res.status >= 200 && res.status < 300) accepted.push(String(body.event.id))
    } catch {
      statuses.set('refused', (statuses.get('refused') ?? 0) + 1)
    }
  }
  // 8 concurrent senders; SIGTERM lands in the middle of the burst.
  const burst = { running: true }
  const senders = Array.from({ length: 8 }, async () => { while (burst.running) await sendOne() })
  await new Promise((resolve) => setTimeout(resolve, 700))
  const termAt = Date.now()
  child.kill('SIGTERM')
  const code = await exited
  const took = Date.now() - termAt
  burst.running = false
  await Promise.all(senders)

  t.equal(code, 0, 'exit code 0')
  t.ok(took < 5000 + 2000, `exited within the drain time (${took} ms)`)
  t.comment(`sent ${sent}, answers ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok(accepted.length > 10, `a real burst was answered (${accepted.length} accepted)`)
  const check = createDb(url, { max: 1 })
  t.teardown(() => check.close())
  const rows = await check.sql<Array<{ event_id: string }>>`select event_id from webhook_events`
  const stored = new Set(rows.map((r) => r.event_id))
  const lost = accepted.filter((id) => !stored.has(id))
  t.equal(lost.length, 0, 'every delivery answered 2xx is in the inbox')
  t.notOk(statuses.has('500'), 'no 500')
  t.match(out, /api shutting down/)
})

// postgres.js 3.4.9 and a connection that drops at a bad moment (patches/postgres@3.4.9.patch).
// Each case runs in a child process: unpatched, the driver kills it (an uncaught TypeError, an
// unhandled rejection) or leaves a connection that never works again.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createTestDatabase } from './helpers/database.js'

const CHILD = fileURLToPath(new URL('./fixtures/closed-socket-child.mjs', import.meta.url))

interface Settled { outcome: 'rejected' | 'resolved' | 'hung', code?: string, message?: string }
type Report = Settled & Record<string, Settled | string | boolean | undefined>

async function runChild (scenario: string, url: string) {
  const child = spawn(process.execPath, [CHILD, scenario, url], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  let report: Report | undefined
  try { report = JSON.parse(stdout.trim().split('\n').pop() ?? '') } catch {}
  return { code, stderr, report }
}

t.test('a query on a reserved connection whose socket closed rejects with CONNECTION_CLOSED (porsager/postgres#1208)', async (t) => {
  const { url } = await createTestDatabase(t)
  const { code, stderr, report } = await runChild('reserved', url)
  t.notMatch(stderr, /Cannot read properties of null/, 'no TypeError from nextWrite')
  t.equal(code, 0, `the process survives (stderr: ${stderr.slice(0, 600)})`)
  t.equal(report?.outcome, 'rejected', 'the query settles (no hang)')
  t.equal(report?.code, 'CONNECTION_CLOSED', 'with a catchable CONNECTION_CLOSED')
})

t.test('a transaction whose connection drops between statements fails catchably and the pool reconnects', async (t) => {
  const { url } = await createTestDatabase(t)
  const { code, stderr, report } = await runChild('transaction', url)
  t.notMatch(stderr, /Cannot read properties of null/, 'no TypeError from the rollback on the closed connection')
  t.equal(code, 0, `the process survives (stderr: ${stderr.slice(0, 600)})`)
  t.equal(report?.outcome, 'rejected', 'begin() rejects')
  t.equal(report?.code, 'CONNECTION_CLOSED')
  t.match(report?.statement, { outcome: 'rejected', code: 'CONNECTION_CLOSED' }, 'the statement sent after the drop rejects too')
  t.match(report?.after, { outcome: 'resolved' }, 'the pool\'s only connection is reconnected for the next query, not parked')
})

t.test('a socket that closes while a write is buffered does not poison its connection (LanternOps/breeze#3225)', async (t) => {
  const { url } = await createTestDatabase(t)
  const { code, stderr, report } = await runChild('buffered', url)
  t.equal(code, 0, `the process survives (stderr: ${stderr.slice(0, 600)})`)
  t.match(report?.doomed, { outcome: 'rejected', code: 'CONNECTION_CLOSED' }, 'the query whose bytes were buffered rejects')
  t.equal(report?.outcome, 'resolved', `both connections serve queries again after reconnecting (got ${JSON.stringify(report)})`)
})

t.test('a connection reset during the driver\'s own types query rejects that caller only (porsager/postgres#1192)', async (t) => {
  const { url } = await createTestDatabase(t)
  const { code, stderr, report } = await runChild('types', url)
  t.notMatch(stderr, /ECONNRESET|unhandled/i, 'no unhandled rejection')
  t.equal(code, 0, `the process survives (stderr: ${stderr.slice(0, 600)})`)
  t.equal(report?.reset, true, 'the proxy did reset the connection in the types query')
  t.match(report?.first, { outcome: 'rejected', code: 'ECONNRESET' }, 'the query waiting for that connection rejects with the reset')
  t.equal(report?.outcome, 'resolved', 'the next query runs on a reconnected connection')
})

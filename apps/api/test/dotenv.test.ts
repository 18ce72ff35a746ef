import { spawn } from 'node:child_process'
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { closedPort } from '@fp-webhooks/testing'
import t from 'tap'

const API_BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const workerDir = dirname(realpathSync(createRequire(import.meta.url).resolve('@fp-webhooks/worker/package.json')))
const WORKER_BIN = join(workerDir, 'dist', 'bin.js')
const SECRET = 'dotenv-test-secret-0123456789'

/** Runs a bin in `cwd` until it exits (it must: every case fails its Postgres check). */
async function run (bin: string, cwd: string, env: Record<string, string | undefined>) {
  const base = { ...process.env }
  for (const name of ['DATABASE_URL', 'FP_WEBHOOK_SECRET']) delete base[name]
  const child = spawn(process.execPath, [bin], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  clearTimeout(timer)
  return { code, stderr }
}

for (const [name, bin] of [['api', API_BIN], ['worker', WORKER_BIN]] as const) {
  t.test(`${name}: reads .env from its working directory; the environment wins over it`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-dotenv-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const [filePort, envPort] = [await closedPort(), await closedPort()]
    writeFileSync(join(dir, '.env'), `FP_WEBHOOK_SECRET=${SECRET}\nDATABASE_URL=postgres://postgres@127.0.0.1:${filePort}/fromfile\n`)

    const fromFile = await run(bin, dir, {})
    t.equal(fromFile.code, 1)
    t.match(fromFile.stderr, `127.0.0.1:${filePort}/fromfile`, 'the URL in .env is the one tried')
    t.notMatch(fromFile.stderr, /Invalid configuration/, 'the secret came from .env too')

    const fromEnv = await run(bin, dir, { DATABASE_URL: `postgres://postgres@127.0.0.1:${envPort}/fromenv` })
    t.match(fromEnv.stderr, `127.0.0.1:${envPort}/fromenv`, 'the environment wins')
    t.notMatch(fromEnv.stderr, 'fromfile')

    if (name === 'api') {
      const elsewhere = mkdtempSync(join(tmpdir(), 'fp-dotenv-'))
      t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }))
      const none = await run(bin, elsewhere, {})
      t.match(none.stderr, /FP_WEBHOOK_SECRET is required/, 'no .env: nothing read')
    }
  })
}

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { closedPort } from '@fp-webhooks/testing'
import t from 'tap'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

/** `firstpromoter-webhooks replay 1` in `cwd`; it fails at its Postgres check, naming the URL. */
async function replay (cwd: string, env: Record<string, string>): Promise<string> {
  const base = { ...process.env }
  delete base.DATABASE_URL
  try {
    await promisify(execFile)(process.execPath, [BIN, 'replay', '1'], { cwd, env: { ...base, ...env } })
    return ''
  } catch (err) {
    return (err as { stderr: string }).stderr
  }
}

t.test('the CLI reads .env from its working directory; the environment wins over it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-dotenv-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const [filePort, envPort] = [await closedPort(), await closedPort()]
  writeFileSync(join(dir, '.env'), `DATABASE_URL=postgres://postgres@127.0.0.1:${filePort}/fromfile\n`)
  t.match(await replay(dir, {}), `Cannot reach Postgres at DATABASE_URL=postgres://postgres@127.0.0.1:${filePort}/fromfile`)
  const fromEnv = await replay(dir, { DATABASE_URL: `postgres://postgres@127.0.0.1:${envPort}/fromenv` })
  t.match(fromEnv, `127.0.0.1:${envPort}/fromenv`, 'the environment wins')
  t.notMatch(fromEnv, 'fromfile')
})

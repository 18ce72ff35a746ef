import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadDotEnv } from '../src/dotenv.js'

t.test('a .env fills what the environment leaves unset; the environment wins', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-dotenv-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, '.env')
  writeFileSync(file, '# a comment\nFROM_FILE=file\nBOTH=file\nQUOTED="a b # c"\nEMPTY=\n')
  const env: NodeJS.ProcessEnv = { BOTH: 'environment' }
  t.equal(loadDotEnv(file, env), file)
  t.same(env, { BOTH: 'environment', FROM_FILE: 'file', QUOTED: 'a b # c', EMPTY: '' })
})

t.test('no .env: nothing read, nothing changed', async (t) => {
  const env: NodeJS.ProcessEnv = { A: '1' }
  t.equal(loadDotEnv(join(tmpdir(), 'fp-dotenv-missing', '.env'), env), undefined)
  t.same(env, { A: '1' })
})

t.test('a .env that cannot be read (a directory) is an error, not silently skipped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fp-dotenv-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.throws(() => loadDotEnv(dir, {}), { code: 'EISDIR' })
})

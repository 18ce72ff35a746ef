import { readFileSync, readdirSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { errorReply } from '../src/error-reply.js'
import * as errors from '../src/errors.js'

// Pinned, as fastify core pins its own: a new code is a decision, made here and in the README.
const expectedErrors = 9

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const srcDir = fileURLToPath(new URL('../src/', import.meta.url))
const sourceFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])

type Ctor = new (...args: unknown[]) => Error & { code: string, statusCode: number }
const constructors = Object.entries(errors).filter(([, value]) => (value as { name?: string }).name === 'FastifyError') as Array<[string, Ctor]>

/** The rows of the README's Errors table: code and status as documented. */
function readmeCodes (): Map<string, string> {
  const section = readme.slice(readme.indexOf('## Errors'))
  const end = section.indexOf('\n## ')
  const rows = new Map<string, string>()
  for (const m of section.slice(0, end === -1 ? undefined : end).matchAll(/^\| `([A-Z0-9_]+)` \| (\d{3})\b/gm)) rows.set(m[1]!, m[2]!)
  return rows
}

t.test(`exposes ${expectedErrors} error constructors`, async (t) => {
  t.equal(constructors.length, expectedErrors)
  t.equal(constructors.length, Object.keys(errors).length, 'the module exports nothing else')
})

t.test('each constructor: export name = code, an ADMIN_/METRICS_ prefix or NOT_FOUND, a status and its reason', async (t) => {
  for (const [name, Ctor] of constructors) {
    const err = new Ctor('x', 'y')
    t.equal(err.code, name, `${name}: the code is the export's name`)
    t.match(name, /^(ADMIN_|METRICS_)[A-Z_]+$|^NOT_FOUND$/)
    t.same(errorReply(err), { statusCode: err.statusCode, code: name, error: STATUS_CODES[err.statusCode], message: err.message }, `${name}: its answer`)
  }
})

t.test('every constructor is in the README, with its status', async (t) => {
  const documented = readmeCodes()
  for (const [name, Ctor] of constructors) {
    t.equal(documented.get(name), String(new Ctor('x', 'y').statusCode), `${name} is in the Errors table with its status`)
  }
})

t.test('every code in the README exists', async (t) => {
  const documented = readmeCodes()
  t.equal(documented.size, expectedErrors, 'the table has one row per constructor')
  for (const code of documented.keys()) t.ok(Object.hasOwn(errors, code), `${code} has a constructor`)
})

t.test('the api sends no code that is not in the registry', async (t) => {
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8')
    const name = relative(srcDir, file)
    // A code written out in an answer (`code: 'X'`) bypasses the registry.
    t.notMatch(text, /\bcode: ['"`][A-Z]/, `${name}: no literal code in an answer`)
  }
})

t.test('errorReply: an error of another library keeps its name; a 5xx says only its reason', async (t) => {
  t.equal(errorReply({ statusCode: 429, code: 'X', name: 'RateLimitError', message: 'm' }).error, 'RateLimitError')
  t.equal(errorReply({ statusCode: 400, code: 'FST_ERR_VALIDATION', name: 'FastifyError', message: 'm' }).error, 'Bad Request')
  t.equal(errorReply({ statusCode: 500, code: 'ERROR', name: 'TypeError', message: 'Internal Server Error' }).error, 'Internal Server Error')
})

import { readFileSync, readdirSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import t from 'tap'
import * as errors from '../src/errors.js'
import { errorBody } from '../src/responses.js'

// Pinned, as fastify core pins its own: a new code is a decision, made here and in the README.
const expectedErrors = 10

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const srcDir = new URL('../src/', import.meta.url)
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => ({ file: f, text: readFileSync(new URL(f, srcDir), 'utf8') }))

type Ctor = new (...args: unknown[]) => Error & { code: string, statusCode: number }
const constructors = Object.entries(errors).filter(([, value]) => (value as { name?: string }).name === 'FastifyError') as Array<[string, Ctor]>

/** The rows of the README's Errors table: code and status as documented. */
function readmeCodes (): Map<string, string> {
  const section = readme.slice(readme.indexOf('## Errors'))
  const table = section.slice(0, section.indexOf('\n## ') === -1 ? undefined : section.indexOf('\n## '))
  const rows = new Map<string, string>()
  for (const m of table.matchAll(/^\| `([A-Z0-9_]+)` \| (\d{3})\b/gm)) rows.set(m[1]!, m[2]!)
  return rows
}

t.test(`exposes ${expectedErrors} error constructors`, async (t) => {
  t.equal(constructors.length, expectedErrors)
  t.equal(constructors.length, Object.keys(errors).length, 'the module exports nothing else')
})

t.test('each constructor: export name = code, FST_FIRSTPROMOTER_ prefix, a status code and its reason', async (t) => {
  t.plan(expectedErrors * 4)
  for (const [name, Ctor] of constructors) {
    const err = new Ctor('x')
    t.equal(err.code, name, `${name}: the code is the export's name`)
    t.match(name, /^FST_FIRSTPROMOTER_/)
    t.ok(STATUS_CODES[err.statusCode], `${name}: ${err.statusCode} is an HTTP status`)
    t.equal(errorBody(err).error, STATUS_CODES[err.statusCode], `${name}: answered with its reason phrase`)
  }
})

t.test('every constructor is in the README, with its status', async (t) => {
  const documented = readmeCodes()
  for (const [name, Ctor] of constructors) {
    t.equal(documented.get(name), String(new Ctor('x').statusCode), `${name} is in the Errors table with its status`)
  }
})

t.test('every code in the README exists', async (t) => {
  const documented = readmeCodes()
  t.equal(documented.size, expectedErrors, 'the table has one row per constructor')
  for (const code of documented.keys()) t.ok(Object.hasOwn(errors, code), `${code} has a constructor`)
})

t.test('the plugin sends no code that is not in the registry', async (t) => {
  for (const { file, text } of sources) {
    // A code written out in an answer (`code: 'X'`) bypasses the registry.
    t.notMatch(text, /\bcode: ['"`][A-Z]/, `${file}: no literal code in an answer`)
    const named = new Set(Array.from(text.matchAll(/FST_FIRSTPROMOTER_[A-Z_]+/g), ([code]) => code))
    for (const code of named) t.ok(Object.hasOwn(errors, code), `${file}: ${code} has a constructor`)
  }
})

t.test('errorBody: Fastify-shaped, field errors only when given, a foreign error keeps its name', async (t) => {
  t.same(errorBody(new errors.FST_FIRSTPROMOTER_INVALID_JSON('body is empty')), {
    statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_JSON', error: 'Bad Request', message: 'Body is not valid JSON: body is empty'
  })
  const fields = [{ path: '/event/id', message: 'Expected string' }]
  t.same(errorBody(new errors.FST_FIRSTPROMOTER_INVALID_ENVELOPE('x'), fields).errors, fields)
  t.same(errorBody({ statusCode: 418, code: 'TEAPOT', name: 'TeapotError', message: 'short and stout' }).error, 'TeapotError')
  t.same(errorBody({ statusCode: 499, code: 'X', name: 'FastifyError', message: 'm' }).error, 'Error', 'a status without a reason phrase')
})

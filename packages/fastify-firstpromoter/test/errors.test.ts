import { readFileSync } from 'node:fs'
import t from 'tap'
import * as errors from '../src/errors.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('every error constructor: export name = code, FST_FIRSTPROMOTER_ prefix, listed in the README', async (t) => {
  const entries = Object.entries(errors)
  t.ok(entries.length >= 9)
  for (const [name, Ctor] of entries) {
    const err = new (Ctor as new (...a: unknown[]) => Error & { code: string, statusCode: number })('x')
    t.equal(err.code, name, `${name}: code matches the export`)
    t.match(name, /^FST_FIRSTPROMOTER_/)
    t.type(err.statusCode, 'number')
    t.match(readme, `\`${name}\``, `${name} is documented in the README`)
  }
})

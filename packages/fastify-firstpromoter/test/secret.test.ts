import * as crypto from 'node:crypto'
import t from 'tap'
import { createSecretMatcher } from '../src/secret.js'

t.test('matches any listed secret and nothing else', async (t) => {
  const matches = createSecretMatcher(['first-secret-0123456789', 'second-secret-0123456789'])
  t.equal(matches('first-secret-0123456789'), true)
  t.equal(matches('second-secret-0123456789'), true)
  t.equal(matches('first-secret-012345678'), false, 'one character short')
  t.equal(matches('first-secret-0123456780'), false, 'last character differs')
  t.equal(matches('xfirst-secret-0123456789'), false, 'prefix added')
  t.equal(matches(''), false)
  t.equal(matches(undefined), false)
})

t.test('compares in constant time: equal-length digests through timingSafeEqual, every secret every time', async (t) => {
  const calls: Array<[number, number]> = []
  const { createSecretMatcher: mocked } = await t.mockImport<typeof import('../src/secret.js')>('../src/secret.js', {
    'node:crypto': {
      ...crypto,
      timingSafeEqual: (a: Buffer, b: Buffer) => {
        calls.push([a.length, b.length])
        return crypto.timingSafeEqual(a, b)
      }
    }
  })
  const matches = mocked(['first-secret-0123456789', 'second-secret-0123456789', 'third-secret-0123456789'])
  for (const candidate of ['first-secret-0123456789', 'x', 'a much longer candidate than any secret in the list']) {
    calls.length = 0
    matches(candidate)
    t.equal(calls.length, 3, `${candidate.slice(0, 10)}: compared against all three secrets, no early exit`)
    t.ok(calls.every(([a, b]) => a === 32 && b === 32), 'always 32-byte digests, whatever the candidate length')
  }
})

import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest()

/**
 * Builds a matcher for a list of secrets (several during a rotation). Every candidate is hashed
 * and compared with `timingSafeEqual` against every secret, so the time taken depends neither on
 * how much of a secret matched nor on which one did.
 */
export function createSecretMatcher (secrets: readonly string[]) {
  const digests = secrets.map(digest)
  return function matches (candidate: string | undefined): boolean {
    const given = digest(candidate ?? '')
    let found = false
    for (const d of digests) found = timingSafeEqual(d, given) || found
    return found
  }
}

import { REDACTED } from 'fastify-firstpromoter'

/**
 * Values shorter than this are not masked: they cannot be told from ordinary text, and masking
 * them would garble every line. Every secret the api requires is longer (16 characters and up).
 */
export const MIN_MASKED_LENGTH = 8

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const anyCase = (hex: string) => hex.replace(/[A-F]/g, (h) => `[${h}${h.toLowerCase()}]`)

/** One character of a secret, in each form it can take in a JSON log line. */
function characterPattern (char: string): string {
  const forms = new Set<string>()
  // As pino writes it: `"` and `\` escaped (once or more, when an error text quotes JSON),
  // control characters as \uXXXX.
  if (char === '"') forms.add('\\\\*"')
  else if (char === '\\') forms.add('\\\\+')
  else forms.add(escapeRegExp(JSON.stringify(char).slice(1, -1)))
  // Percent-encoded in a URL, whether or not the character needed it, in either hex case.
  forms.add([...Buffer.from(char, 'utf8')].map((b) => '%' + anyCase(b.toString(16).toUpperCase().padStart(2, '0'))).join(''))
  if (char === ' ') forms.add('\\+')
  return forms.size === 1 ? [...forms][0]! : `(?:${[...forms].join('|')})`
}

/**
 * A function that masks every occurrence of the given secrets in a serialised log line: as is,
 * JSON-escaped, and percent-encoded (a token in a query string, a secret in a mistyped path).
 * Used as pino's `streamWrite` hook, it covers every field of every line, whatever logged it.
 * @param secrets the configured secret values; empty and short ones (< MIN_MASKED_LENGTH) are ignored
 */
export function createSecretScrubber (secrets: ReadonlyArray<string | undefined>): (line: string) => string {
  const values = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_MASKED_LENGTH))]
    // Longest first, so that a secret containing another is masked whole.
    .sort((a, b) => b.length - a.length)
  if (values.length === 0) return (line) => line
  const pattern = new RegExp(values.map((v) => Array.from(v, characterPattern).join('')).join('|'), 'g')
  return (line) => line.replace(pattern, REDACTED)
}

/** The password of a connection string, if it has one (for masking; never logged). */
export function urlPassword (url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    const password = new URL(url).password
    return password ? decodeURIComponent(password) : undefined
  } catch {
    return undefined
  }
}

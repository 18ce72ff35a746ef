import { REDACTED, maskSecrets } from './redact.js'

/*
 * A body that could not be parsed is scrubbed by scanning it, since there is no tree to walk. The
 * rule is "when in doubt, mask": the scanner reads pseudo-JSON leniently (either quote, bare words,
 * `key=value` pairs), decodes each name before comparing it, masks whatever value follows a
 * credential name, and where it cannot tell what follows (no separator, an unterminated string or
 * structure, a credential name inside other text) it masks the rest of the body.
 */

const MASK = `"${REDACTED}"`
/** Parts of a name (lower-case letters and digits only) that mark its value as a credential. */
const CREDENTIAL_PARTS = ['token', 'password', 'secret', 'apikey', 'defaultwebhookurl']
const PUNCTUATION = new Set(['{', '}', '[', ']', ':', ',', '=', '&', ';'])
const SEPARATORS = new Set([':', '='])
/** What may follow a key's empty value (`"auth_token":,`): nothing to mask. */
const VALUE_ENDS = new Set([',', '}', ']', '&', ';'])

interface Token {
  kind: 'string' | 'word' | 'punct'
  start: number
  end: number
  /** False for a string whose closing quote never came. */
  closed: boolean
}

// Space, tab, CR, LF (what JSON calls whitespace), plus the other ASCII controls and NBSP.
const isSpace = (c: string) => c <= ' ' || c === '\u00a0'

function tokenize (raw: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < raw.length) {
    const c = raw[i]!
    if (isSpace(c)) { i++; continue }
    if (c === '"' || c === "'") {
      let j = i + 1
      while (j < raw.length && raw[j] !== c) j += raw[j] === '\\' ? 2 : 1
      const closed = j < raw.length
      out.push({ kind: 'string', start: i, end: closed ? j + 1 : raw.length, closed })
      i = closed ? j + 1 : raw.length
      continue
    }
    if (PUNCTUATION.has(c)) {
      out.push({ kind: 'punct', start: i, end: i + 1, closed: true })
      i++
      continue
    }
    let j = i + 1
    while (j < raw.length && !isSpace(raw[j]!) && raw[j] !== '"' && raw[j] !== "'" && !PUNCTUATION.has(raw[j]!)) j++
    out.push({ kind: 'word', start: i, end: j, closed: true })
    i = j
  }
  return out
}

function codePoint (hex: string, fallback: string): string {
  const n = Number.parseInt(hex, 16)
  return n <= 0x10ffff ? String.fromCodePoint(n) : fallback
}

/** The text of a name or value with JSON, JavaScript and URL escapes resolved. */
function decode (text: string): string {
  return text.replace(/\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|%([0-9a-fA-F]{2})|\\(.)/gs,
    (m, braced?: string, u?: string, x?: string, pct?: string, other?: string) => {
      const hex = braced ?? u ?? x ?? pct
      return hex !== undefined ? codePoint(hex, m) : other!
    })
}

function contentOf (raw: string, token: Token): string {
  if (token.kind !== 'string') return raw.slice(token.start, token.end)
  return raw.slice(token.start + 1, token.closed ? token.end - 1 : token.end)
}

const looksLikeCredential = (name: string) => CREDENTIAL_PARTS.some((part) => name.includes(part))

const punctAt = (raw: string, token: Token | undefined, set: ReadonlySet<string>) =>
  token !== undefined && token.kind === 'punct' && set.has(raw[token.start]!)

/**
 * Whether token `i` is, beyond doubt, the value of a key (`"note": "reset your password",`): it
 * may then mention a credential without being one.
 */
function isPlainValue (raw: string, tokens: Token[], i: number): boolean {
  const token = tokens[i]!
  return token.closed && punctAt(raw, tokens[i - 1], SEPARATORS) &&
    (i + 1 === tokens.length || punctAt(raw, tokens[i + 1], VALUE_ENDS))
}

/**
 * Where the value starting at token `j` ends: `{ end, next }` (its last character + 1 and the index
 * of the token after it), `{ end: start }` when it is empty, or null when it cannot be told.
 */
function valueEnd (raw: string, tokens: Token[], j: number): { end: number, next: number } | null {
  const first = tokens[j]!
  if (first.kind === 'string') return first.closed ? { end: first.end, next: j + 1 } : null
  if (first.kind === 'word') return { end: first.end, next: j + 1 }
  const c = raw[first.start]!
  if (VALUE_ENDS.has(c)) return { end: first.start, next: j }
  if (c !== '{' && c !== '[') return null
  let depth = 0
  for (let k = j; k < tokens.length; k++) {
    const t = tokens[k]!
    if (t.kind === 'string' && !t.closed) return null
    if (t.kind !== 'punct') continue
    const p = raw[t.start]
    if (p === '{' || p === '[') depth++
    else if (p === '}' || p === ']') depth--
    if (depth === 0) return { end: t.end, next: k + 1 }
  }
  return null
}

/**
 * Scrubs a body that could not be parsed before it is kept in quarantine: the value after any
 * credential-like name (`auth_token`, `temp_password`, `*token*`, `*password*`, `*secret*`,
 * `api_key`, `default_webhook_url`), however the name is quoted or escaped and whatever the value's
 * type; any string holding one of our URL secrets; and, from the first place the scan cannot read
 * safely, the rest of the body.
 * @param raw the body as received
 * @param secrets our URL secrets, masked wherever they occur
 * @returns the body with every credential replaced by `"[REDACTED]"`
 */
export function scrubRawBody (raw: string, secrets: readonly string[]): string {
  const tokens = tokenize(raw)
  const masks: Array<[number, number]> = []
  /** From here on everything is masked: the scan could not tell what follows. */
  let cutAt: number | null = null

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.kind === 'punct') continue
    const content = contentOf(raw, token)
    const text = content.includes('\\') || content.includes('%') ? decode(content) : content
    const sep = tokens[i + 1]
    if (!isPlainValue(raw, tokens, i) && looksLikeCredential(text.toLowerCase().replace(/[^a-z0-9]/g, ''))) {
      const isKey = punctAt(raw, sep, SEPARATORS)
      if (!isKey) {
        // A credential name not followed by its value: the quoting around it is broken, or it
        // sits inside other text. Nothing after it can be trusted.
        cutAt = token.start
        break
      }
      const value = i + 2 < tokens.length ? valueEnd(raw, tokens, i + 2) : null
      if (value === null) {
        cutAt = tokens[i + 2]?.start ?? raw.length
        break
      }
      if (value.end > tokens[i + 2]!.start) masks.push([tokens[i + 2]!.start, value.end])
      i = value.next - 1
      continue
    }
    if (token.kind === 'string' && secrets.some((s) => text.includes(s))) masks.push([token.start, token.end])
  }

  let out = ''
  let at = 0
  for (const [start, end] of masks) {
    out += raw.slice(at, start) + MASK
    at = end
  }
  out += cutAt === null ? raw.slice(at) : raw.slice(at, cutAt) + MASK
  return maskSecrets(out, secrets)
}

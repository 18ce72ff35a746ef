/*
 * Postgres refuses two things JSON and JavaScript strings allow: U+0000 (in text and in jsonb) and
 * UTF-16 surrogates without their pair (jsonb rejects the `\ud800` escape JSON.stringify writes).
 * A delivery carrying either would fail to store on every retry, answered 503 as if Postgres were
 * down; each becomes U+FFFD instead, so the delivery is kept with that detail replaced.
 */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what must be found
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

export function storableString (value: string): string
export function storableString (value: string | null): string | null
export function storableString (value: string | null): string | null {
  return value === null ? null : value.replace(UNSTORABLE, '\ufffd')
}

/** A copy of a JSON value whose strings and keys Postgres accepts (the value itself when it is already fine). */
export function storableJson<T> (value: T): T {
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return storableString(node)
    if (node === null || typeof node !== 'object') return node
    if (Array.isArray(node)) return node.map(walk)
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(node)) out[storableString(key)] = walk(child)
    return out
  }
  return JSON.stringify(value)?.search(/\\u0000|\\ud[89a-f]/i) === -1 ? value : walk(value) as T
}

/** `JSON.stringify(value)` of what `storableJson` keeps: one serialisation on the hot path. */
export function storableJsonText (value: unknown): string {
  const text = JSON.stringify(value)
  return text.search(/\\u0000|\\ud[89a-f]/i) === -1 ? text : JSON.stringify(storableJson(value))
}

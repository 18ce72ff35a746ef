/** One `--set path=value`: a dot path into the payload and the value to put there. */
export type SetOperation = readonly [path: string, value: unknown]

// A path must never reach Object.prototype through the payload.
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor'])

/**
 * A `--set` value: JSON when it parses (`5`, `true`, `null`, `"123"`, `{"a":1}`), else the text as
 * a string (`credits`, `user_42`).
 */
export function parseValue (text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

function segmentsOf (path: string): string[] {
  const segments = path.split('.')
  if (path === '' || segments.some((s) => s === '')) throw new TypeError(`--set path "${path}" must be dot-separated keys, e.g. data.unit`)
  const bad = segments.find((s) => FORBIDDEN.has(s))
  if (bad) throw new TypeError(`--set path "${path}" may not contain "${bad}"`)
  return segments
}

/**
 * Parses `path=value` (the first `=` splits; the value may contain more).
 * @throws TypeError when there is no `=` or the path is malformed
 */
export function parseSet (arg: string): SetOperation {
  const eq = arg.indexOf('=')
  if (eq < 0) throw new TypeError(`--set expects path=value (e.g. data.amount=5), got "${arg}"`)
  const path = arg.slice(0, eq)
  segmentsOf(path)
  return [path, parseValue(arg.slice(eq + 1))]
}

/**
 * Sets `value` at the dot `path` in `target`, creating missing objects on the way. Numeric
 * segments index arrays (`data.promoter.promotions.0.id`).
 * @throws TypeError when the path goes through a string, number or boolean, or is malformed
 */
export function setPath (target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = segmentsOf(path)
  const last = segments.pop()!
  let node: Record<string, unknown> = target
  const walked: string[] = []
  for (const key of segments) {
    walked.push(key)
    const child = node[key]
    if (child === undefined || child === null) {
      const created: Record<string, unknown> = {}
      node[key] = created
      node = created
    } else if (typeof child === 'object') {
      node = child as Record<string, unknown>
    } else {
      throw new TypeError(`--set ${path}: ${walked.join('.')} is a ${typeof child}, not an object`)
    }
  }
  node[last] = value
}

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }

export const DURATION_FORMATS = 'a whole number followed by d, h, m or s (30d, 12h, 90m, 45s)'

/**
 * Parses `30d`, `12h`, `90m` or `45s` into milliseconds.
 * @throws TypeError naming the accepted formats for anything else (`5x`, `1.5h`, `-1d`, `30`)
 */
export function parseDuration (text: string): number {
  const match = /^([0-9]{1,9})([dhms])$/.exec(text)
  const ms = match ? Number(match[1]) * UNITS[match[2]!]! : NaN
  if (!match || !(ms > 0)) throw new TypeError(`invalid duration "${text}": expected ${DURATION_FORMATS}`)
  return ms
}

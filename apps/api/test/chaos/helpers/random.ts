import { randomInt } from 'node:crypto'

interface Commenter { comment: (...args: unknown[]) => void }

/** mulberry32: a tiny, fast PRNG with a 32-bit state; the same seed gives the same run. */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** The run's seed: `CHAOS_SEED` when set (decimal or 0x hex), else a fresh random one. */
export function chaosSeed (): number {
  const given = process.env.CHAOS_SEED
  if (given !== undefined && given.trim() !== '') {
    const n = Number(given.trim())
    if (!Number.isInteger(n) || n < 0) throw new TypeError(`CHAOS_SEED must be a non-negative integer, got ${given}`)
    return n >>> 0
  }
  return randomInt(0, 2 ** 32 - 1)
}

export type Rng = ReturnType<typeof createRng>

/**
 * A seeded random generator for a scenario. The seed is printed as a TAP comment so that a failing
 * run can be replayed with `CHAOS_SEED=<seed>`.
 */
export function createRng (t: Commenter, seed = chaosSeed()) {
  t.comment(`seed ${seed} (replay with CHAOS_SEED=${seed})`)
  const next = mulberry32(seed)
  const rng = {
    seed,
    /** A float in [0, 1). */
    next,
    /** An integer in [min, max], both included. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    /** true with probability `p`. */
    chance: (p: number) => next() < p,
    pick<T> (items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty list')
      return items[Math.floor(next() * items.length)] as T
    },
    /** A shuffled copy (Fisher–Yates). */
    shuffle<T> (items: readonly T[]): T[] {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        const tmp = out[i] as T
        out[i] = out[j] as T
        out[j] = tmp
      }
      return out
    },
    /** A string of `length` characters drawn from `alphabet`. */
    string (length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
      let s = ''
      for (let i = 0; i < length; i++) s += alphabet[Math.floor(next() * alphabet.length)]
      return s
    }
  }
  return rng
}

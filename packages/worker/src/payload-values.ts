// Reading projection fields out of a payload the receiver stored as is: a value of the wrong type
// becomes null (or undefined for an object), never an error, so an odd field never fails a projection.

export type Obj = Record<string, unknown>
/** Which event last wrote a projection row: the newest `sourceAt` wins. */
export interface Version { sourceAt: Date, sourceEventId: number }

export const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Obj : undefined)
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
export const date = (v: unknown): Date | null => {
  if (typeof v !== 'string') return null
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? null : d
}
/** A balances object (`{ unit: number }`), its non-numbers left out. */
export const balance = (v: unknown): Record<string, number> | null => {
  const o = obj(v)
  if (!o) return null
  return Object.fromEntries(Object.entries(o).filter(([, n]) => typeof n === 'number')) as Record<string, number>
}

import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { FulfilmentPendingDataSchema, V1EnvelopeSchema, V1EventDataSchemaByType } from './schemas.js'
import { V2WebhookEnvelopeSchema } from './schemas-v2.js'

export interface FieldError {
  /** JSON pointer of the field, e.g. `/data/amount`. */
  path: string
  message: string
}

const MAX_ERRORS = 10

function compile<T extends TSchema> (schema: T, prefix = '') {
  const check = TypeCompiler.Compile(schema)
  return {
    check: (value: unknown) => check.Check(value),
    /** The first few errors, one per field, with the path a sender can act on. */
    errors (value: unknown): FieldError[] {
      const seen = new Set<string>()
      const out: FieldError[] = []
      for (const e of check.Errors(value)) {
        const path = prefix + e.path
        if (seen.has(path)) continue
        seen.add(path)
        out.push({ path: path || '/', message: e.message })
        if (out.length >= MAX_ERRORS) break
      }
      return out
    }
  }
}

export const v1Envelope = compile(V1EnvelopeSchema)
export const v2Envelope = compile(V2WebhookEnvelopeSchema)
export const fulfilmentData = compile(FulfilmentPendingDataSchema, '/data')

/** Whether `value` has what a fulfilment needs (id, amount, unit, promoter id): a v1 payout passes too. */
export const fulfilmentPendingCheck = (value: unknown): boolean => fulfilmentData.check(value)

const dataChecks = new Map<string, ReturnType<typeof compile>>()

/**
 * Where a stored v1 event's data differs from the documented shape of its type ([] when it does
 * not, or for a type FirstPromoter does not document). The worker logs it: FirstPromoter's
 * payloads drift, and an operator should hear of it.
 */
export function documentedShapeErrors (value: unknown): FieldError[] {
  const type = (value as { event?: { type?: unknown } } | null)?.event?.type
  if (typeof type !== 'string' || !Object.hasOwn(V1EventDataSchemaByType, type)) return []
  let check = dataChecks.get(type)
  if (!check) {
    check = compile(V1EventDataSchemaByType[type as keyof typeof V1EventDataSchemaByType], '/data')
    dataChecks.set(type, check)
  }
  const data = (value as { data?: unknown }).data
  return check.check(data) ? [] : check.errors(data).slice(0, 3)
}

import { Type } from '@sinclair/typebox'
import { ErrorReplySchema } from '../../error-reply.js'

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })
/** A fulfilment's id: a v1 payout id, or minus the commission id for a v2 commission (its own namespace). */
export const FulfilmentIdParams = Type.Object({
  id: Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER })
})

/** Success bodies are documented by the route summaries; `Any` keeps their rows as they are. */
export const withErrors = {
  200: Type.Any(),
  202: Type.Any(),
  404: ErrorReplySchema,
  409: ErrorReplySchema,
  422: Type.Any()
}

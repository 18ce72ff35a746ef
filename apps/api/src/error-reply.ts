import { STATUS_CODES } from 'node:http'
import { Type, type Static } from '@sinclair/typebox'

/** Every error answer of the api: Fastify's shape. */
export const ErrorReplySchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String()
})
export type ErrorReply = Static<typeof ErrorReplySchema>

/**
 * The answer for an error whose status is known (one of `errors.ts`, or one Fastify threw):
 * `error` is the status's reason phrase, except for an error of another library, which keeps its name.
 */
export function errorReply (err: { statusCode: number, code: string, name: string, message: string }): ErrorReply {
  return {
    statusCode: err.statusCode,
    code: err.code,
    error: err.name === 'FastifyError' || err.statusCode >= 500 ? STATUS_CODES[err.statusCode] ?? 'Error' : err.name,
    message: err.message
  }
}

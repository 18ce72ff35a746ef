import { STATUS_CODES } from 'node:http'
import { Type, type Static } from '@sinclair/typebox'
import type { FieldError } from './validate.js'

/** 200 for an ordinary event (and for an unknown type: stored, then ignored), and for a v2 test delivery. */
export const ReceivedSchema = Type.Object({
  received: Type.Literal(true),
  duplicate: Type.Boolean(),
  /** Set for a v2 test delivery: stored as a test, never processed. */
  test: Type.Optional(Type.Literal(true))
})
export type Received = Static<typeof ReceivedSchema>

/** 200 (granted) or 202 (pending) for `fulfilment_pending`. */
export const FulfilmentAnswerSchema = Type.Object({
  fulfilment_id: Type.Number(),
  state: Type.Union([Type.Literal('granted'), Type.Literal('pending')])
})
export type FulfilmentAnswerBody = Static<typeof FulfilmentAnswerSchema>

export const ErrorBodySchema = Type.Object({
  statusCode: Type.Number(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  fulfilment_id: Type.Optional(Type.Number())
})
export type ErrorBody = Static<typeof ErrorBodySchema>

/** An error whose status code is known: every constructor of `errors.ts`, and Fastify's own 4xx. */
export interface StatusError {
  statusCode: number
  code: string
  name: string
  message: string
}

/**
 * The body of every error answer, Fastify's shape: `error` is the status's reason phrase for our
 * own and Fastify's errors (both are named `FastifyError`), else the error's name.
 * @param errors the fields at fault, for a body that failed validation
 */
export function errorBody (err: StatusError, errors?: FieldError[] | null): ErrorBody {
  return {
    statusCode: err.statusCode,
    code: err.code,
    error: err.name === 'FastifyError' ? STATUS_CODES[err.statusCode] ?? 'Error' : err.name,
    message: err.message,
    ...(errors ? { errors } : {})
  }
}

/**
 * Every 200 body, one object with optional fields: `anyOf` would make the serializer validate
 * each answer against the branches at run time, on the hot path.
 */
export const DeliveryAnswerSchema = Type.Object({
  received: Type.Optional(Type.Literal(true)),
  duplicate: Type.Optional(Type.Boolean()),
  test: Type.Optional(Type.Literal(true)),
  fulfilment_id: Type.Optional(Type.Number()),
  state: Type.Optional(Type.Union([Type.Literal('granted'), Type.Literal('pending')]))
})

import { Type, type Static } from '@sinclair/typebox'

/** 200 for an ordinary event (and for an unknown type: stored, then ignored). */
export const ReceivedSchema = Type.Object({
  received: Type.Literal(true),
  duplicate: Type.Boolean()
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

/**
 * Every 200 body, one object with optional fields: `anyOf` would make the serializer validate
 * each answer against the branches at run time, on the hot path.
 */
export const DeliveryAnswerSchema = Type.Object({
  received: Type.Optional(Type.Literal(true)),
  duplicate: Type.Optional(Type.Boolean()),
  fulfilment_id: Type.Optional(Type.Number()),
  state: Type.Optional(Type.Union([Type.Literal('granted'), Type.Literal('pending')]))
})

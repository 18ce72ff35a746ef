import { Type } from '@sinclair/typebox'

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })
export const ErrorReply = Type.Object({ statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String() })
export const notFound = (what: string) => ({ statusCode: 404, code: 'ADMIN_NOT_FOUND', error: 'Not Found', message: `${what} not found` })

/** Success bodies are documented by the route summaries; `Any` keeps their rows as they are. */
export const withErrors = { 200: Type.Any(), 202: Type.Any(), 404: ErrorReply, 409: ErrorReply, 422: Type.Any() }

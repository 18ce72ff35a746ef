import type { FastifyInstance } from 'fastify'
import sjson from 'secure-json-parse'

/**
 * What the content-type parsers hand to the route: the text always (quarantine keeps it when it
 * cannot be parsed, and a signature is computed over these exact bytes), the JSON when it parsed.
 */
export type ParsedBody =
  | { kind: 'json', raw: string, value: unknown }
  | { kind: 'invalid-json', raw: string, reason: string }
  | { kind: 'unsupported', raw: string, contentType: string }

/*
 * The parsers never throw: a bad body must reach the handler so that it can be quarantined and
 * answered with a reason. `__proto__` and `constructor.prototype` keys are refused outright.
 */
export function addBodyParsers (app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    const raw = body as string
    try {
      done(null, { kind: 'json', raw, value: sjson.parse(raw, undefined, { protoAction: 'error', constructorAction: 'error' }) })
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      done(null, { kind: 'invalid-json', raw, reason: raw.trim() === '' ? 'body is empty' : reason })
    }
  })
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    done(null, { kind: 'unsupported', raw: body as string, contentType: String(req.headers['content-type'] ?? '') })
  })
}

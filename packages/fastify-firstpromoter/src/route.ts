import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { addBodyParsers, type ParsedBody } from './body.js'
import { fulfilmentFacts, v1Delivery, v2Delivery } from './delivery.js'
import {
  FST_FIRSTPROMOTER_BODY_TOO_LARGE,
  FST_FIRSTPROMOTER_FULFILMENT_FAILED,
  FST_FIRSTPROMOTER_INVALID_ENVELOPE,
  FST_FIRSTPROMOTER_INVALID_FULFILMENT,
  FST_FIRSTPROMOTER_INVALID_JSON,
  FST_FIRSTPROMOTER_NOT_FOUND,
  FST_FIRSTPROMOTER_STORE_UNAVAILABLE,
  FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE
} from './errors.js'
import type { NormalizedOptions } from './options.js'
import { NestingTooDeepError, loggableError, maskEmails, maskSecrets, redactInPlace } from './redact.js'
import { scrubRawBody } from './scrub.js'
import { DeliveryAnswerSchema, ErrorBodySchema, FulfilmentAnswerSchema } from './responses.js'
import { answerFulfilment } from './protocol.js'
import type { FulfilmentPendingData, V1Envelope } from './schemas.js'
import type { V2WebhookEnvelope } from './schemas-v2.js'
import { createSecretMatcher } from './secret.js'
import { withTimeout } from './timeout.js'
import type { Delivery } from './seams.js'
import { fulfilmentData, v1Envelope, v2Envelope, type FieldError } from './validate.js'

type ClientError = FastifyError & { statusCode: number }

function errorBody (err: ClientError, errors?: FieldError[]) {
  return {
    statusCode: err.statusCode,
    code: err.code,
    error: err.name === 'FastifyError' ? httpReason(err.statusCode) : err.name,
    message: err.message,
    ...(errors ? { errors } : {})
  }
}

function httpReason (status: number): string {
  switch (status) {
    case 400: return 'Bad Request'
    case 404: return 'Not Found'
    case 413: return 'Payload Too Large'
    case 415: return 'Unsupported Media Type'
    case 422: return 'Unprocessable Entity'
    case 503: return 'Service Unavailable'
    default: return 'Error'
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The request URL with the secret segment masked, and any of `secrets` wherever else it appears
 * (a mistyped path, a query string): the only form of it that may reach a log.
 */
export function maskedUrl (url: string, prefix: string, secrets: readonly string[] = []): string {
  if (!url.startsWith(prefix + '/')) return maskSecrets(url, secrets)
  const rest = url.slice(prefix.length + 1)
  const cut = rest.search(/[/?#]/)
  return maskSecrets(`${prefix}/[REDACTED]${cut === -1 ? '' : rest.slice(cut)}`, secrets)
}

export function webhookRoutes (opts: NormalizedOptions) {
  const matches = createSecretMatcher(opts.secrets)
  const redactOptions = { secrets: opts.secrets, paths: opts.redactPaths, personalData: opts.personalData }

  return async function routes (app: FastifyInstance): Promise<void> {
    const fullPrefix = app.prefix
    const serializeReq = (req: FastifyRequest) => ({
      method: req.method,
      url: maskedUrl(req.url, fullPrefix, opts.secrets),
      host: req.host,
      remoteAddress: req.ip
    })

    async function quarantine (req: FastifyRequest, statusCode: number, reason: string, details: unknown, body: string | null) {
      const limit = opts.quarantineBodyLimit
      try {
        await opts.store.quarantine({
          reason,
          statusCode,
          details: details ?? null,
          contentType: typeof req.headers['content-type'] === 'string' ? req.headers['content-type'].slice(0, 200) : null,
          bodySize: body === null ? Number(req.headers['content-length'] ?? 0) || 0 : Buffer.byteLength(body),
          body: body === null ? null : body.slice(0, limit),
          bodyTruncated: body !== null && body.length > limit
        })
      } catch (err) {
        req.log.error({ err: { message: loggableError(err) } }, 'firstpromoter: could not quarantine a rejected delivery')
      }
    }

    async function reject (req: FastifyRequest, reply: FastifyReply, err: ClientError, body: string | null, errors?: FieldError[]) {
      req.log.warn({ code: err.code, errors }, 'firstpromoter: delivery rejected: %s', err.message)
      await quarantine(req, err.statusCode, err.message, errors ?? null, body)
      return reply.code(err.statusCode).send(errorBody(err, errors))
    }

    addBodyParsers(app, opts.bodyLimit)

    app.setNotFoundHandler((_req, reply) => {
      reply.code(404).send(errorBody(new FST_FIRSTPROMOTER_NOT_FOUND() as ClientError))
    })

    app.setErrorHandler(async (err: FastifyError, req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reject(req, reply, new FST_FIRSTPROMOTER_BODY_TOO_LARGE(opts.bodyLimit) as ClientError, null)
      }
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        // A framework error's message may quote the URL, and the URL holds the secret.
        const message = maskSecrets(err.message.split(req.url).join(maskedUrl(req.url, fullPrefix, opts.secrets)), opts.secrets)
        return reply.code(err.statusCode).send({ ...errorBody(err as ClientError), message })
      }
      req.log.error({ err }, 'firstpromoter: unexpected error')
      return reply.code(500).send({ statusCode: 500, code: 'FST_FIRSTPROMOTER_INTERNAL', error: 'Internal Server Error', message: 'Internal Server Error' })
    })

    // Before the body is read: a wrong secret learns nothing and costs nothing.
    app.addHook('onRequest', async (req, reply) => {
      const { secret } = req.params as { secret?: string }
      if (!matches(secret)) {
        req.log.info('firstpromoter: unknown secret')
        // Answered before the body is read: close the connection rather than go on reading (and
        // waiting for) a body nobody wants, however slowly it comes.
        return reply.code(404).header('connection', 'close').send(errorBody(new FST_FIRSTPROMOTER_NOT_FOUND() as ClientError))
      }
    })

    app.post('/:secret', {
      bodyLimit: opts.bodyLimit,
      logSerializers: { req: serializeReq },
      schema: {
        summary: 'Receive a FirstPromoter webhook',
        params: { type: 'object', properties: { secret: { type: 'string' } }, required: ['secret'] },
        response: {
          200: DeliveryAnswerSchema,
          202: FulfilmentAnswerSchema,
          '4xx': ErrorBodySchema,
          503: ErrorBodySchema
        }
      }
    }, async (req, reply) => {
      const body = req.body as ParsedBody | undefined
      if (body === undefined) {
        return reject(req, reply, new FST_FIRSTPROMOTER_INVALID_JSON('body is empty') as ClientError, '')
      }
      if (body.kind === 'unsupported') {
        return reject(req, reply, new FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE(body.contentType.slice(0, 100) || 'none') as ClientError, scrubRawBody(body.raw, opts.secrets))
      }
      if (body.kind === 'invalid-json') {
        return reject(req, reply, new FST_FIRSTPROMOTER_INVALID_JSON(body.reason) as ClientError, scrubRawBody(body.raw, opts.secrets))
      }

      const doc = body.value
      try {
        redactInPlace(doc, redactOptions)
      } catch (err) {
        /* c8 ignore next -- redaction only throws for depth */
        if (!(err instanceof NestingTooDeepError)) throw err
        return reject(req, reply, new FST_FIRSTPROMOTER_INVALID_ENVELOPE(err.message) as ClientError, scrubRawBody(body.raw, opts.secrets))
      }

      let delivery: Delivery
      if (opts.acceptV2 && isObject(doc) && !('event' in doc) && 'event_id' in doc) {
        if (!v2Envelope.check(doc)) {
          const errors = v2Envelope.errors(doc)
          return reject(req, reply, new FST_FIRSTPROMOTER_INVALID_ENVELOPE(describe(errors)) as ClientError, JSON.stringify(doc), errors)
        }
        delivery = v2Delivery(doc as V2WebhookEnvelope)
      } else {
        if (!v1Envelope.check(doc)) {
          const errors = v1Envelope.errors(doc)
          return reject(req, reply, new FST_FIRSTPROMOTER_INVALID_ENVELOPE(describe(errors)) as ClientError, JSON.stringify(doc), errors)
        }
        const envelope = doc as V1Envelope
        if (envelope.event.type === 'fulfilment_pending') {
          if (!fulfilmentData.check(envelope.data)) {
            const errors = fulfilmentData.errors(envelope.data)
            return reject(req, reply, new FST_FIRSTPROMOTER_INVALID_FULFILMENT(describe(errors)) as ClientError, JSON.stringify(doc), errors)
          }
          delivery = v1Delivery(envelope, fulfilmentFacts(envelope.data as FulfilmentPendingData, opts.personalData === 'keep'))
        } else {
          // An ordinary event is never refused for a detail of its data: it may not be sent again.
          // Its data is compared with the documented shape by the worker, off the request path.
          delivery = v1Delivery(envelope)
        }
      }

      const sentAt = delivery.source === 'v1' ? (doc as V1Envelope).event.created_at : (doc as V2WebhookEnvelope).timestamp
      if (delivery.eventCreatedAt === null && sentAt !== undefined && sentAt !== null) {
        // Not relied on: the payload keeps it as sent, the store gets no time.
        const field = delivery.source === 'v1' ? 'event.created_at' : 'timestamp'
        req.log.warn({ eventId: delivery.eventId, eventType: delivery.eventType, field, sent: Array.isArray(sentAt) ? 'array' : typeof sentAt }, 'firstpromoter: event time is not usable; stored without it')
      }

      let recorded
      // Aborted when we give up: the store then rolls back instead of committing after our 503.
      const storing = new AbortController()
      try {
        recorded = await withTimeout(opts.store.record(delivery, { signal: storing.signal }), opts.storeTimeoutMs)
      } catch (err) {
        storing.abort()
        req.log.error({ err: { message: loggableError(err), code: (err as { code?: string }).code } }, 'firstpromoter: store unavailable')
        const e = new FST_FIRSTPROMOTER_STORE_UNAVAILABLE() as ClientError
        return reply.code(503).header('retry-after', '30').send(errorBody(e))
      }
      const logFields = { eventId: delivery.eventId, eventType: delivery.eventType, inboxId: recorded.inboxId, duplicate: recorded.duplicate }
      req.firstpromoterDelivery = { eventType: delivery.eventType, eventId: delivery.eventId, fulfilmentId: recorded.fulfilment?.id ?? null, duplicate: recorded.duplicate }

      // Every new inbox row gets its processing job (projections, handlers), fulfilments included:
      // the sweeper is only the fallback for rows stored while the queue was unreachable.
      const eventQueued = recorded.inboxId === null
        ? Promise.resolve()
        : withTimeout(opts.dispatcher.enqueueEvent({ inboxId: recorded.inboxId, eventType: delivery.eventType }), opts.enqueueTimeoutMs).catch((err: Error) => {
          // The inbox row is durable; the outbox sweeper enqueues it once the queue is back.
          req.log.warn({ ...logFields, err: { message: err.message } }, 'firstpromoter: queue unreachable, event left for the sweeper')
        })

      if (recorded.fulfilment) {
        const [answer] = await Promise.all([answerFulfilment(opts, recorded.fulfilment, req.log), eventQueued])
        if (answer.statusCode === 422) {
          // FirstPromoter will flag it `has_issues`: a human must act, so say why.
          req.log.warn({ ...logFields, fulfilmentId: recorded.fulfilment.id, answer: 422, reason: maskEmails(answer.reason ?? 'unknown reason') }, 'firstpromoter: fulfilment answered 422, it cannot be granted')
        } else {
          req.log.info({ ...logFields, fulfilmentId: recorded.fulfilment.id, answer: answer.statusCode }, 'firstpromoter: fulfilment answered')
        }
        opts.store.noteAnswer({
          fulfilmentId: recorded.fulfilment.id,
          eventId: delivery.eventId,
          statusCode: answer.statusCode,
          reason: answer.reason
        }).catch((err: Error) => req.log.warn({ err: { message: loggableError(err) } }, 'firstpromoter: could not record the answer'))
        if (answer.statusCode === 422) {
          const e = new FST_FIRSTPROMOTER_FULFILMENT_FAILED(answer.reason ?? 'unknown reason') as ClientError
          return reply.code(422).send({ ...errorBody(e), fulfilment_id: recorded.fulfilment.id })
        }
        return reply.code(answer.statusCode).send({ fulfilment_id: recorded.fulfilment.id, state: answer.state })
      }

      await eventQueued
      req.log.info(logFields, 'firstpromoter: event received')
      return reply.code(200).send({ received: true, duplicate: recorded.duplicate })
    })
  }
}

function describe (errors: FieldError[]): string {
  const first = errors[0]
  return first ? `${first.path}: ${first.message}` : 'does not match the schema'
}

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { addBodyParsers, type ParsedBody } from './body.js'
import { droppedEventTime } from './delivery.js'
import {
  FST_FIRSTPROMOTER_BODY_TOO_LARGE,
  FST_FIRSTPROMOTER_FULFILMENT_FAILED,
  FST_FIRSTPROMOTER_INTERNAL,
  FST_FIRSTPROMOTER_NOT_FOUND,
  FST_FIRSTPROMOTER_STORE_UNAVAILABLE
} from './errors.js'
import type { NormalizedOptions } from './options.js'
import { answerFulfilment, type AnsweredDelivery } from './protocol.js'
import { loggableError, maskEmails, maskedUrl, maskUrlIn } from './redact.js'
import { DeliveryAnswerSchema, ErrorBodySchema, FulfilmentAnswerSchema, errorBody } from './responses.js'
import { createSecretMatcher } from './secret.js'
import type { Delivery, FulfilmentStatus, RecordResult } from './seams.js'
import { withTimeout } from './timeout.js'
import { isRejection, readsAsV1, rejection, toDelivery, type DeliveryOptions, type Rejection } from './to-delivery.js'
import { createV2Authenticator, v2CredentialValues } from './v2-auth.js'

type LogFields = Record<string, unknown>

/** The answer to a wrong URL secret and to missing or wrong v2 credentials alike: it tells nothing. */
function notFound (reply: FastifyReply) {
  return reply.code(404).header('connection', 'close').send(errorBody(new FST_FIRSTPROMOTER_NOT_FOUND()))
}

/**
 * The webhook route: checks the secret (and, for a body that is not v1, the v2 credentials), turns
 * the body into a delivery (`toDelivery`) and does the I/O: quarantines a rejection, stores a
 * delivery, queues its processing, and answers (the fulfilment protocol is `answerFulfilment`).
 */
export function webhookRoutes (opts: NormalizedOptions) {
  const matches = createSecretMatcher(opts.secrets)
  const v2Credentials = createV2Authenticator(opts.v2Auth)
  // The v2 credentials are masked wherever the URL secrets are: in stored and quarantined bodies.
  const masked = [...opts.secrets, ...v2CredentialValues(opts.v2Auth)]
  const deliveryOptions: DeliveryOptions = {
    secrets: masked,
    paths: opts.redactPaths,
    personalData: opts.personalData,
    acceptV2: opts.acceptV2
  }

  return async function routes (app: FastifyInstance): Promise<void> {
    const fullPrefix = app.prefix
    const serializeReq = (req: FastifyRequest) => ({
      method: req.method,
      url: maskedUrl(req.url, fullPrefix, masked),
      host: req.host,
      remoteAddress: req.ip
    })

    async function quarantine (req: FastifyRequest, { error, fieldErrors, body }: Rejection) {
      const limit = opts.quarantineBodyLimit
      try {
        await opts.store.quarantine({
          reason: error.message,
          statusCode: error.statusCode,
          details: fieldErrors,
          contentType: typeof req.headers['content-type'] === 'string' ? req.headers['content-type'].slice(0, 200) : null,
          bodySize: body === null ? Number(req.headers['content-length'] ?? 0) || 0 : Buffer.byteLength(body),
          body: body === null ? null : body.slice(0, limit),
          bodyTruncated: body !== null && body.length > limit
        })
      } catch (err) {
        req.log.error({ err: { message: loggableError(err) } }, 'firstpromoter: could not quarantine a rejected delivery')
      }
    }

    async function reject (req: FastifyRequest, reply: FastifyReply, refused: Rejection) {
      const { error, fieldErrors } = refused
      req.log.warn({ code: error.code, errors: fieldErrors ?? undefined }, 'firstpromoter: delivery rejected: %s', error.message)
      await quarantine(req, refused)
      return reply.code(error.statusCode).send(errorBody(error, fieldErrors))
    }

    /** Stores the delivery durably; null when the store failed or did not answer in time. */
    async function record (req: FastifyRequest, delivery: Delivery): Promise<RecordResult | null> {
      // Aborted when we give up: the store then rolls back instead of committing after our 503.
      const storing = new AbortController()
      try {
        return await withTimeout(opts.store.record(delivery, { signal: storing.signal }), opts.storeTimeoutMs)
      } catch (err) {
        storing.abort()
        req.log.error({ err: { message: loggableError(err), code: (err as { code?: string }).code } }, 'firstpromoter: store unavailable')
        return null
      }
    }

    /** Queues the processing of a new inbox row; never fails the delivery, which is durable already. */
    async function enqueueEvent (
      req: FastifyRequest,
      inboxId: number | null,
      eventType: string,
      logFields: LogFields
    ): Promise<void> {
      if (inboxId === null) return
      await withTimeout(
        opts.dispatcher.enqueueEvent({ inboxId, eventType }), opts.enqueueTimeoutMs
      ).catch((err: Error) => {
        // The outbox sweeper enqueues it once the queue is back.
        req.log.warn({ ...logFields, err: { message: err.message } }, 'firstpromoter: queue unreachable, event left for the sweeper')
      })
    }

    async function answerFulfilmentDelivery (
      req: FastifyRequest,
      reply: FastifyReply,
      fulfilment: FulfilmentStatus,
      delivery: AnsweredDelivery,
      eventQueued: Promise<void>,
      logFields: LogFields
    ) {
      const [decision] = await Promise.all([answerFulfilment(opts, fulfilment, req.log, delivery), eventQueued])
      const fulfilmentId = fulfilment.id
      if (decision.statusCode === 422) {
        // FirstPromoter will flag it `has_issues`: a human must act, so say why.
        req.log.warn({ ...logFields, fulfilmentId, answer: 422, reason: maskEmails(decision.reason ?? 'unknown reason') }, 'firstpromoter: fulfilment answered 422, it cannot be granted')
      } else {
        req.log.info({ ...logFields, fulfilmentId, answer: decision.statusCode }, 'firstpromoter: fulfilment answered')
      }
      if (decision.noted !== true) {
        const { statusCode, reason } = decision
        opts.store.noteAnswer({ fulfilmentId, eventId: delivery.eventId, statusCode, reason })
          .catch((err: Error) => req.log.warn({ err: { message: loggableError(err) } }, 'firstpromoter: could not record the answer'))
      }
      if (decision.statusCode === 422) {
        return reply.code(422).send({ ...errorBody(new FST_FIRSTPROMOTER_FULFILMENT_FAILED(decision.reason ?? 'unknown reason')), fulfilment_id: fulfilmentId })
      }
      return reply.code(decision.statusCode).send({ fulfilment_id: fulfilmentId, state: decision.state })
    }

    addBodyParsers(app, opts.bodyLimit)

    // A child context's hooks run before its parents': the store is flushed before a pool closes.
    app.addHook('onClose', async () => { await opts.store.flush?.() })

    app.setNotFoundHandler((_req, reply) => {
      reply.code(404).send(errorBody(new FST_FIRSTPROMOTER_NOT_FOUND()))
    })

    app.setErrorHandler(async (err: FastifyError, req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reject(req, reply, rejection(new FST_FIRSTPROMOTER_BODY_TOO_LARGE(opts.bodyLimit), null))
      const { statusCode } = err
      if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
        // A framework error's message may quote the URL, and the URL holds the secret.
        return reply.code(statusCode).send(errorBody({
          statusCode,
          code: err.code,
          name: err.name,
          message: maskUrlIn(err.message, req.url, fullPrefix, masked)
        }))
      }
      req.log.error({ err }, 'firstpromoter: unexpected error')
      return reply.code(500).send(errorBody(new FST_FIRSTPROMOTER_INTERNAL()))
    })

    // Before the body is read: a wrong secret learns nothing and costs nothing.
    app.addHook('onRequest', async (req, reply) => {
      const { secret } = req.params as { secret?: string }
      if (!matches(secret)) {
        req.log.info('firstpromoter: unknown secret')
        // Answered before the body is read: close the connection rather than go on reading (and
        // waiting for) a body nobody wants, however slowly it comes.
        return notFound(reply)
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
      // v1 cannot send credentials; everything else must (v2 bodies, tests, and bodies that cannot
      // be read), before anything is redacted, stored or quarantined.
      if (v2Credentials && !(body?.kind === 'json' && readsAsV1(body.value))) {
        const failed = v2Credentials(req.headers, body?.raw ?? '')
        if (failed.length > 0) {
          // The names of the checks, for the operator; never a value, and never in the answer.
          req.log.info({ failed }, 'firstpromoter: v2 credentials missing or wrong')
          return notFound(reply)
        }
      }
      const delivery = toDelivery(body, deliveryOptions, { eventId: req.headers['x-event-id'] })
      if (isRejection(delivery)) return reject(req, reply, delivery)
      const { eventId, eventType } = delivery

      const dropped = droppedEventTime(delivery)
      // Not relied on: the payload keeps it as sent, the store gets no time.
      if (dropped) req.log.warn({ eventId, eventType, ...dropped }, 'firstpromoter: event time is not usable; stored without it')

      const recorded = await record(req, delivery)
      if (recorded === null) return reply.code(503).header('retry-after', '30').send(errorBody(new FST_FIRSTPROMOTER_STORE_UNAVAILABLE()))
      const { inboxId, duplicate, fulfilment, fulfilmentCreated, processedWithGrant } = recorded
      const logFields = { eventId, eventType, inboxId, duplicate }
      req.firstpromoterDelivery = { eventType, eventId, fulfilmentId: fulfilment?.id ?? null, duplicate }

      if (delivery.test) {
        // Recorded as a test by the store, and never queued: nothing may act on it.
        req.log.info(logFields, 'firstpromoter: test delivery received')
        return reply.code(200).send({ received: true, duplicate, test: true })
      }

      // Every new inbox row gets its processing (projections, handlers): its own job, or, for the
      // delivery that recorded a fulfilment, the grant job's (the store says which). The sweeper is
      // only the fallback for rows stored while the queue was unreachable.
      const carriedInboxId = fulfilment && processedWithGrant === true && inboxId !== null ? inboxId : undefined
      const eventQueued = carriedInboxId === undefined
        ? enqueueEvent(req, inboxId, eventType, logFields)
        : Promise.resolve()
      if (fulfilment) {
        const answered: AnsweredDelivery = {
          eventId, reward: delivery.fulfilment, created: fulfilmentCreated === true, carriedInboxId
        }
        return answerFulfilmentDelivery(req, reply, fulfilment, answered, eventQueued, logFields)
      }
      await eventQueued
      req.log.info(logFields, 'firstpromoter: event received')
      return reply.code(200).send({ received: true, duplicate })
    })
  }
}

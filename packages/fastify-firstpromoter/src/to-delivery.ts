/*
 * From what the body parsers produced to what the route stores or refuses: no I/O, no Fastify.
 * The route quarantines a `Rejection` and answers its error; it stores a `Delivery`.
 */
import type { ParsedBody } from './body.js'
import { fulfilmentFacts, v1Delivery, v2Delivery } from './delivery.js'
import {
  FST_FIRSTPROMOTER_INVALID_ENVELOPE,
  FST_FIRSTPROMOTER_INVALID_FULFILMENT,
  FST_FIRSTPROMOTER_INVALID_JSON,
  FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE
} from './errors.js'
import { NestingTooDeepError, redactInPlace, type RedactOptions } from './redact.js'
import type { StatusError } from './responses.js'
import type { FulfilmentPendingData, V1Envelope } from './schemas.js'
import type { V2WebhookEnvelope } from './schemas-v2.js'
import { scrubRawBody } from './scrub.js'
import type { Delivery } from './seams.js'
import { fulfilmentData, v1Envelope, v2Envelope, type FieldError } from './validate.js'

export interface DeliveryOptions extends RedactOptions {
  /** Whether a v2 envelope is recognised; when false every body is read as v1. */
  acceptV2: boolean
}

/** A body the route refuses: answered with `error`, kept in quarantine as `body`. */
export interface Rejection {
  rejected: true
  /** The answer's status code, code and message. */
  error: StatusError
  /** The fields at fault, when the body is JSON that failed a schema. */
  fieldErrors: FieldError[] | null
  /**
   * What quarantine keeps: the redacted document re-serialised, or the raw text with credentials
   * scrubbed when it could not be parsed or redacted; null when it was never read (too large).
   */
  body: string | null
}

export function rejection (error: StatusError, body: string | null, fieldErrors: FieldError[] | null = null): Rejection {
  return { rejected: true, error, fieldErrors, body }
}

export const isRejection = (result: Delivery | Rejection): result is Rejection => 'rejected' in result

/**
 * Reads a parsed body as a delivery: redacts it in place (credentials, secrets, the configured
 * paths and personal data), recognises its envelope (v1 `{event, data}`, or v2 by `event_id` when
 * `acceptV2`), validates what the receiver relies on, and builds the `Delivery` the store gets.
 * Pure: it reads and mutates only `body`, and serialises the document only for a rejection.
 * @param body what the route's content-type parsers produced; undefined for an empty body
 * @returns the redacted delivery, or the rejection to quarantine and answer
 */
export function toDelivery (body: ParsedBody | undefined, options: DeliveryOptions): Delivery | Rejection {
  if (body === undefined) return rejection(new FST_FIRSTPROMOTER_INVALID_JSON('body is empty'), '')
  if (body.kind === 'unsupported') {
    return rejection(new FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE(body.contentType.slice(0, 100) || 'none'), scrubRawBody(body.raw, options.secrets))
  }
  if (body.kind === 'invalid-json') return rejection(new FST_FIRSTPROMOTER_INVALID_JSON(body.reason), scrubRawBody(body.raw, options.secrets))

  const doc = body.value
  try {
    redactInPlace(doc, options)
  } catch (err) {
    /* c8 ignore next -- redaction throws nothing else */
    if (!(err instanceof NestingTooDeepError)) throw err
    return rejection(new FST_FIRSTPROMOTER_INVALID_ENVELOPE(err.message), scrubRawBody(body.raw, options.secrets))
  }
  return options.acceptV2 && isV2Envelope(doc) ? fromV2(doc) : fromV1(doc, options)
}

/** A v2 body names its event `event_id` at the top; one that also has v1's `event` is read as v1. */
function isV2Envelope (doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && !('event' in doc) && 'event_id' in doc
}

function fromV1 (doc: unknown, options: DeliveryOptions): Delivery | Rejection {
  if (!v1Envelope.check(doc)) return invalid(FST_FIRSTPROMOTER_INVALID_ENVELOPE, v1Envelope.errors(doc), doc)
  const envelope = doc as V1Envelope
  // An ordinary event is never refused for a detail of its data: it may not be sent again. The
  // worker compares its data with the documented shape, off the request path.
  if (envelope.event.type !== 'fulfilment_pending') return v1Delivery(envelope)
  if (!fulfilmentData.check(envelope.data)) return invalid(FST_FIRSTPROMOTER_INVALID_FULFILMENT, fulfilmentData.errors(envelope.data), doc)
  return v1Delivery(envelope, fulfilmentFacts(envelope.data as FulfilmentPendingData, options.personalData === 'keep'))
}

// What v2 adds to a delivery (test deliveries, commission approvals as fulfilments) is read here,
// from an envelope that passed its check.
function fromV2 (doc: unknown): Delivery | Rejection {
  if (!v2Envelope.check(doc)) return invalid(FST_FIRSTPROMOTER_INVALID_ENVELOPE, v2Envelope.errors(doc), doc)
  return v2Delivery(doc as V2WebhookEnvelope)
}

function invalid (Failure: new (problem: string) => StatusError, errors: FieldError[], doc: unknown): Rejection {
  const first = errors[0]
  /* c8 ignore next -- a failed check always yields an error; the fallback is for the type */
  return rejection(new Failure(first ? `${first.path}: ${first.message}` : 'does not match the schema'), JSON.stringify(doc), errors)
}

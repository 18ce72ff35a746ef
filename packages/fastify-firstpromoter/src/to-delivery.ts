/*
 * From what the body parsers produced to what the route stores or refuses: no I/O, no Fastify.
 * The route quarantines a `Rejection` and answers its error; it stores a `Delivery`.
 */
import { createHash } from 'node:crypto'
import type { ParsedBody } from './body.js'
import { fulfilmentFacts, v1Delivery, v2Delivery, v2TestDelivery } from './delivery.js'
import {
  FST_FIRSTPROMOTER_INVALID_ENVELOPE,
  FST_FIRSTPROMOTER_INVALID_FULFILMENT,
  FST_FIRSTPROMOTER_INVALID_JSON,
  FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE
} from './errors.js'
import { NestingTooDeepError, redactInPlace, type RedactOptions } from './redact.js'
import type { StatusError } from './responses.js'
import type { FulfilmentPendingData, V1Envelope } from './schemas.js'
import { isV2TestDelivery, type V2WebhookEnvelope } from './schemas-v2.js'
import { scrubRawBody } from './scrub.js'
import type { Delivery } from './seams.js'
import { fulfilmentData, v1Envelope, v2Envelope, type FieldError } from './validate.js'

export interface DeliveryOptions extends RedactOptions {
  /** Whether a v2 envelope is accepted; when false it is refused (400) and quarantined. */
  acceptV2: boolean
}

/** What the route passes on from the request's headers. */
export interface DeliveryHeaders {
  /** `X-Event-Id`, which v2 sends with the body's `event_id`; ignored for a v1 body. */
  eventId?: string | string[] | undefined
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

export function rejection (
  error: StatusError,
  body: string | null,
  fieldErrors: FieldError[] | null = null
): Rejection {
  return { rejected: true, error, fieldErrors, body }
}

export const isRejection = (result: Delivery | Rejection): result is Rejection => 'rejected' in result

/**
 * Reads a parsed body as a delivery: redacts it in place (credentials, secrets, the configured
 * paths and personal data), recognises its envelope (v1 `{event, data}`, or v2, see `readsAsV2`),
 * validates what the receiver relies on, and builds the `Delivery` the store gets.
 * Pure: it reads and mutates only `body`, and serialises the document only for a rejection.
 * @param body what the route's content-type parsers produced; undefined for an empty body
 * @param headers the request's `X-Event-Id`: a v2 body must agree with it (400 otherwise)
 * @returns the redacted delivery, or the rejection to quarantine and answer
 */
export function toDelivery (
  body: ParsedBody | undefined,
  options: DeliveryOptions,
  headers: DeliveryHeaders = {}
): Delivery | Rejection {
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
  if (!readsAsV2(doc)) return fromV1(doc, options)
  if (!options.acceptV2) return rejection(new FST_FIRSTPROMOTER_INVALID_ENVELOPE(V2_TURNED_OFF), JSON.stringify(doc))
  return isV2TestDelivery(doc) ? fromV2Test(doc as Record<string, unknown>, headers) : fromV2(doc, headers)
}

const V2_TURNED_OFF = 'this is a v2 envelope (event_id, event_type) and this receiver accepts v1 only (acceptV2 is off)'

const isObject = (doc: unknown): doc is Record<string, unknown> => typeof doc === 'object' && doc !== null && !Array.isArray(doc)

/** A v1 body: a JSON object with v1's `event`, whatever else it has. */
export const readsAsV1 = (doc: unknown): boolean => isObject(doc) && 'event' in doc

/**
 * A v2 body: a JSON object without v1's `event` that has `event_id` or `event_type`, or is a test
 * delivery (`"data": {"test": true}`, which need not carry either).
 */
export function readsAsV2 (doc: unknown): boolean {
  return isObject(doc) && !('event' in doc) && ('event_id' in doc || 'event_type' in doc || isV2TestDelivery(doc))
}

/** `X-Event-Id` when it was sent (once, non-empty). */
function headerEventId (headers: DeliveryHeaders): string | null {
  const id = headers.eventId
  if (id === undefined) return null
  return typeof id === 'string' ? id.trim() : id.join(', ')
}

const idMismatch = (doc: unknown) => rejection(
  new FST_FIRSTPROMOTER_INVALID_ENVELOPE('the X-Event-Id header does not match event_id'),
  JSON.stringify(doc),
  [{ path: '/event_id', message: 'must equal the X-Event-Id header' }]
)

function fromV1 (doc: unknown, options: DeliveryOptions): Delivery | Rejection {
  if (!v1Envelope.check(doc)) return invalid(FST_FIRSTPROMOTER_INVALID_ENVELOPE, v1Envelope.errors(doc), doc)
  const envelope = doc as V1Envelope
  // An ordinary event is never refused for a detail of its data: it may not be sent again. The
  // worker compares its data with the documented shape, off the request path.
  if (envelope.event.type !== 'fulfilment_pending') return v1Delivery(envelope)
  if (!fulfilmentData.check(envelope.data)) {
    return invalid(FST_FIRSTPROMOTER_INVALID_FULFILMENT, fulfilmentData.errors(envelope.data), doc)
  }
  return v1Delivery(envelope, fulfilmentFacts(envelope.data as FulfilmentPendingData, options.personalData === 'keep'))
}

// What v2 adds to a delivery (commission approvals as fulfilments) is read here, from an
// envelope that passed its check.
function fromV2 (doc: unknown, headers: DeliveryHeaders): Delivery | Rejection {
  if (!v2Envelope.check(doc)) return invalid(FST_FIRSTPROMOTER_INVALID_ENVELOPE, v2Envelope.errors(doc), doc)
  const envelope = doc as V2WebhookEnvelope
  const sent = headerEventId(headers)
  // The header and the body are two copies of one id: if they differ, which one to dedupe on
  // cannot be told, so the delivery is refused and kept for a human.
  if (sent !== null && sent !== '' && sent !== envelope.event_id) return idMismatch(doc)
  return v2Delivery(envelope)
}

const usableString = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 100

/**
 * A test delivery is stored whatever its envelope holds (it is never processed). Its id is the
 * body's `event_id`, else `X-Event-Id`, else derived from the body, so that the same test sent
 * twice is stored once.
 */
function fromV2Test (doc: Record<string, unknown>, headers: DeliveryHeaders): Delivery | Rejection {
  const sent = headerEventId(headers)
  const header = sent !== null && usableString(sent) ? sent : null
  const body = usableString(doc.event_id) ? doc.event_id : null
  if (sent !== null && sent !== '' && body !== null && sent !== body) return idMismatch(doc)
  const eventId = body ?? header ?? `test-${createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32)}`
  return v2TestDelivery(doc, eventId, usableString(doc.event_type) ? doc.event_type : 'test')
}

function invalid (Failure: new (problem: string) => StatusError, errors: FieldError[], doc: unknown): Rejection {
  const first = errors[0]
  /* c8 ignore next -- a failed check always yields an error; the fallback is for the type */
  return rejection(new Failure(first ? `${first.path}: ${first.message}` : 'does not match the schema'), JSON.stringify(doc), errors)
}

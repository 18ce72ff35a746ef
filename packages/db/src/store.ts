import type { FirstPromoterStore, FulfilmentFacts, RecordResult } from 'fastify-firstpromoter'
import type { Db } from './client.js'
import { recordAnswer, recordFulfilmentPrepared, settleAnswer } from './fulfilments.js'
import { insertQuarantine } from './quarantine.js'
import { retryTransient } from './retry.js'
import { storableJson, storableJsonText, storableString } from './storable.js'
import { insertEventPrepared } from './webhook-events.js'

function storableFacts (facts: FulfilmentFacts): FulfilmentFacts {
  return { ...facts, unit: storableString(facts.unit), beneficiary: storableString(facts.beneficiary), custId: storableString(facts.custId), promoterEmail: storableString(facts.promoterEmail) }
}

/**
 * The plugin's store backed by Postgres: inbox, fulfilments and quarantine tables.
 * @param db a Drizzle db from `createDb`
 */
export function createPostgresStore (db: Db): FirstPromoterStore {
  return {
    async record (delivery, { signal } = {}): Promise<RecordResult> {
      const { fulfilment } = delivery
      signal?.throwIfAborted()
      if (!fulfilment) {
        // Ordinary events, the hot path: one prepared statement, autocommitted. If the plugin gives
        // up first (answers 503, `signal` aborts), the statement is cancelled: a 503 means not stored.
        const inboxId = await insertEventPrepared(db.$client, {
          source: delivery.source,
          eventId: storableString(delivery.eventId),
          eventType: storableString(delivery.eventType),
          dedupeKey: storableString(delivery.dedupeKey),
          eventCreatedAt: delivery.eventCreatedAt,
          payloadJson: storableJsonText(delivery.payload)
        }, signal)
        return { inboxId, duplicate: inboxId === null }
      }
      // A fulfilment: the inbox row and the fulfilment commit together, in one statement.
      const { inboxId, status } = await recordFulfilmentPrepared(db.$client, {
        source: delivery.source,
        eventId: storableString(delivery.eventId),
        eventType: storableString(delivery.eventType),
        eventCreatedAt: delivery.eventCreatedAt,
        payloadJson: storableJsonText(delivery.payload)
      }, storableFacts(fulfilment), signal)
      return { inboxId, duplicate: inboxId === null, fulfilment: status }
    },
    async quarantine (entry) {
      await insertQuarantine(db, { ...entry, reason: storableString(entry.reason), details: storableJson(entry.details), contentType: storableString(entry.contentType), body: storableString(entry.body) })
    },
    settleAnswer: (id) => settleAnswer(db.$client, id),
    // The history must not lose a 202 to a Postgres that stalled while the answer was settled, and a
    // 200 noted here is what spares an API close (see `recordAnswer`): retried for about half a
    // minute, idempotently (a timed-out attempt may still have committed).
    noteAnswer: (answer) => {
      const note = { ...answer, answeredAt: new Date() }
      return retryTransient(() => recordAnswer(db.$client, note))
    }
  }
}

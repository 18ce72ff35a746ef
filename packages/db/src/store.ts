import type { Delivery, FirstPromoterStore, RecordResult } from 'fastify-firstpromoter'
import type { Db } from './client.js'
import { getFulfilmentStatus, recordAnswer, settleAnswer, upsertFulfilment } from './fulfilments.js'
import { insertQuarantine } from './quarantine.js'
import { insertEvent } from './webhook-events.js'

function toRow (delivery: Delivery) {
  return {
    source: delivery.source,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    dedupeKey: delivery.dedupeKey,
    eventCreatedAt: delivery.eventCreatedAt,
    payload: delivery.payload
  }
}

/**
 * The plugin's store backed by Postgres: inbox, fulfilments and quarantine tables.
 * @param db a Drizzle db from `createDb`
 */
export function createPostgresStore (db: Db): FirstPromoterStore {
  return {
    async record (delivery): Promise<RecordResult> {
      const { fulfilment } = delivery
      if (!fulfilment) {
        // Ordinary events: one autocommitted insert, the cheapest durable write.
        const inboxId = await insertEvent(db, toRow(delivery))
        return { inboxId, duplicate: inboxId === null }
      }
      return db.transaction(async (tx) => {
        const inboxId = await insertEvent(tx, toRow(delivery))
        const status = await upsertFulfilment(tx, fulfilment, { firstEventId: delivery.eventId })
        return { inboxId, duplicate: inboxId === null, fulfilment: status }
      })
    },
    async quarantine (entry) {
      await insertQuarantine(db, entry)
    },
    fulfilmentStatus: (id) => getFulfilmentStatus(db, id),
    settleAnswer: (id) => settleAnswer(db, id),
    noteAnswer: (answer) => recordAnswer(db, answer)
  }
}

import { randomBytes } from 'node:crypto'

// Random per process, counted per request: unique across api processes without a random draw each.
const processPart = randomBytes(9).toString('base64url')
let count = 0

/** A token unique to one grant request (`FirstPromoterDispatcher.enqueueGrant`'s `ticket`). */
export function nextTicket (): string {
  return `${processPart}${(++count).toString(36)}`
}

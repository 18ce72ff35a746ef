/** A v1 delivery body: `{ event, data }`, as FirstPromoter POSTs it. */
export interface V1Payload {
  event: { id: number | string, type: string, created_at: string, [key: string]: unknown }
  data: Record<string, unknown>
}

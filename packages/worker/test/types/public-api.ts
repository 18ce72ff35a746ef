// Type tests of the public API, compiled (never run) by test/types.test.ts under moduleResolution
// node16 and bundler, and by the packed-install test against the published tarballs. Each
// `@ts-expect-error` must be an error: if one stops being one, the compile fails.
import type { Tx } from '@fp-webhooks/db'
import {
  createHandlers,
  defineFirstPromoter,
  PermanentGrantError,
  type AnyFirstPromoterEvent,
  type FirstPromoterEvent,
  type GrantContext,
  type GrantRequest
} from '@fp-webhooks/worker'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function assertType<T extends true> (_ok?: T): void {}
function use (..._values: unknown[]): void {}

export const handlers = createHandlers()
  .on('reward_created', (event) => {
    assertType<Equal<typeof event.type, 'reward_created'>>()
    assertType<Equal<typeof event.source, 'v1'>>()
    const id: string = event.id
    const inboxId: number = event.inboxId
    const at: Date | null = event.createdAt
    use(...[id, inboxId, at, event.data.id, event.data.unit, event.data.promoter?.email])
    // @ts-expect-error data is typed: a field the reward does not have is an error
    use(event.data.no_such_field)
  })
  .on('fulfilment_pending', (event) => {
    const amount = event.data.amount
    use(amount)
  })
  // An alias: the handler sees either name of the same fact.
  .on('new_customer', (event) => {
    assertType<Equal<typeof event.type, 'new_customer' | 'lead_becomes_referral'>>()
  })
  .on(['promoter_accepted', 'lead_signup'], (event) => {
    if (event.type === 'promoter_accepted') {
      assertType<Equal<typeof event.data, FirstPromoterEvent<'promoter_accepted'>['data']>>()
    } else {
      assertType<Equal<typeof event.type, 'lead_signup'>>()
    }
  })
  .on('commission.updated', (event) => {
    assertType<Equal<typeof event.source, 'v2'>>()
    const status: string | null | undefined = event.data.status
    const changes = event.changes
    use(...[status, changes])
  })
  .on(['promoter.created', 'referral.created'], (event) => {
    if (event.type === 'referral.created') use(event.data)
  })
  .onAny((event: AnyFirstPromoterEvent) => {
    // @ts-expect-error an event of any type: `data` is unknown until `known` and `type` narrow it
    use(event.data.id)
    if (event.known && event.type === 'reward_created') use(event.data.id)
  })

// @ts-expect-error an unknown event type is a compile error
createHandlers().on('reward_creatd', () => {})
// @ts-expect-error so is one in a list
createHandlers().on(['reward_created', 'commission.approvedd'], () => {})
// @ts-expect-error the old `(data, context)` shape: a handler takes one event object
createHandlers().on('reward_created', (_data: unknown, _context: unknown) => {})

export default defineFirstPromoter({
  grants: {
    async credits ({ fulfilment, tx, idempotencyKey }) {
      assertType<Equal<typeof fulfilment, GrantRequest>>()
      assertType<Equal<typeof tx, Tx>>()
      assertType<Equal<typeof idempotencyKey, string>>()
      assertType<Equal<typeof fulfilment.source, 'v1_payout' | 'v2_commission'>>()
      const facts: [number, string, number, string, number | null, string | null, string | null] =
        [
          fulfilment.id,
          fulfilment.unit,
          fulfilment.amount,
          fulfilment.beneficiary,
          fulfilment.promoterId,
          fulfilment.custId,
          fulfilment.email
        ]
      use(facts)
      // @ts-expect-error the storage row's bookkeeping is not part of a grant request
      use(fulfilment.answeredPending)
      // @ts-expect-error nor are its attempts
      use(fulfilment.attempts)
      if (fulfilment.amount > 1000) throw new PermanentGrantError('too many credits')
    },
    free_months: (context: GrantContext) => { use(context.fulfilment.beneficiary) }
  },
  handlers
})

// @ts-expect-error a grant is a function
defineFirstPromoter({ grants: { credits: 42 } })
// @ts-expect-error handlers come from createHandlers()
defineFirstPromoter({ handlers: { on () {} } })

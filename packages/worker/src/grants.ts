import type { Fulfilment, Tx } from '@fp-webhooks/db'

export interface GrantContext {
  /**
   * The fulfilment as recorded (unit, amount, beneficiary, promoter ids), locked for this transaction.
   * `kind` tells a v1 payout from a v2 commission (`fpId` is FirstPromoter's id of either); a v2
   * commission also carries the referred customer (`referralId`, `referralUid`, `referralEmail`)
   * and `party`, the side the payload names as rewarded (null: it does not say; `beneficiary` is
   * then the promoter's, as in v1). See docs/firstpromoter-v2.md, "Non-monetary commissions".
   */
  fulfilment: Fulfilment
  /**
   * The Drizzle transaction that also writes the ledger row and marks the fulfilment granted.
   * Write your own tables through it and the grant is all-or-nothing with ours.
   */
  tx: Tx
  /**
   * Stable across retries of this fulfilment. Pass it to any external system you call (a billing
   * API's idempotency key) so that a retry after a crash does not grant there twice.
   */
  idempotencyKey: string
}

/**
 * Grants one fulfilment. Resolve when done; throw `PermanentGrantError` when it can never succeed
 * (unknown customer, unsupported amount): the fulfilment ends `failed` and FirstPromoter is answered
 * 422. Any other error is retried with backoff.
 */
export type GrantFunction = (context: GrantContext) => Promise<void> | void

export type GrantFunctions = Record<string, GrantFunction>

/** The grant can never succeed as sent; retrying will not help. */
export class PermanentGrantError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'PermanentGrantError'
  }
}

/** Units the built-in ledger grants when no function is registered for them. */
export const DEFAULT_LEDGER_UNITS: readonly string[] = ['free_months', 'credits', 'points']

/** The built-in grant: the ledger row, written by the grant processor itself, is the reward. */
export const ledgerGrant: GrantFunction = () => {}

export function grantFunctionFor (unit: string, grants: GrantFunctions, ledgerUnits: ReadonlySet<string>): GrantFunction | undefined {
  return Object.hasOwn(grants, unit) ? grants[unit] : ledgerUnits.has(unit) ? ledgerGrant : undefined
}

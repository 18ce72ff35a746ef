import type { Fulfilment, Tx } from '@fp-webhooks/db'

/**
 * Where a reward to grant comes from: a v1 payout (`fulfilment_pending`, or a pending payout found
 * by reconciliation) or a v2 non-monetary commission that became approved. Their ids are separate
 * namespaces: a payout and a commission may share a number, so key your own records on both.
 */
export type GrantSource = 'v1_payout' | 'v2_commission'

/** The facts of one reward to grant: what FirstPromoter asked for, as recorded. */
export interface GrantRequest {
  source: GrantSource
  /** FirstPromoter's id of the reward (the v1 payout id, or the v2 commission id); unique within `source`. */
  id: number
  /** The reward's unit, e.g. `credits`, `free_months`, `points`. */
  unit: string
  /** A whole number of `unit`s. */
  amount: number
  /** Who is rewarded: `cust:<cust_id>` when FirstPromoter knows your id for them, else `promoter:<id>`. */
  beneficiary: string
  /** FirstPromoter's promoter id. */
  promoterId: number | null
  /** Your own id for the promoter, when FirstPromoter has it. */
  custId: string | null
  /** The promoter's e-mail; null when not sent or when personal data is dropped (`FP_PERSONAL_DATA=drop`). */
  email: string | null
  /**
   * v2 only: the referred customer of the commission (`id`, `uid`, `email`), when it has one; null
   * for a v1 payout. See docs/firstpromoter-v2.md, "Non-monetary commissions".
   */
  referral: { id: number | null, uid: string | null, email: string | null } | null
  /**
   * v2 only: the side the payload names as rewarded; null when it does not say (`beneficiary` is then
   * the promoter's, as in v1) and for every v1 payout.
   */
  party: 'promoter' | 'referral' | null
}

export interface GrantContext {
  /**
   * The reward's facts, read in this transaction. The row is not locked while your function runs:
   * the ledger row (unique per reward) is what makes concurrent grants of it wait and then find it
   * taken, so at most one grant of a reward ever commits.
   */
  fulfilment: GrantRequest
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

/** Grant functions by unit; a unit with none is granted by the built-in ledger when it is in FP_LEDGER_UNITS. */
export type GrantFunctions = Record<string, GrantFunction>

/** The public facts of a recorded fulfilment; never its bookkeeping (answers, attempts, API close). */
export function grantRequestOf (row: Pick<Fulfilment, 'id' | 'kind' | 'unit' | 'amount' | 'beneficiary' | 'promoterId' | 'custId' | 'promoterEmail' | 'referralId' | 'referralUid' | 'referralEmail' | 'party'>): GrantRequest {
  const v2 = row.kind === 'v2_commission'
  return {
    source: v2 ? 'v2_commission' : 'v1_payout',
    // A v2 commission is stored under the negative of its id (its own namespace).
    id: Math.abs(row.id),
    unit: row.unit,
    amount: row.amount,
    beneficiary: row.beneficiary,
    promoterId: row.promoterId,
    custId: row.custId,
    email: row.promoterEmail,
    referral: v2 && (row.referralId !== null || row.referralUid !== null)
      ? { id: row.referralId, uid: row.referralUid, email: row.referralEmail }
      : null,
    party: row.party ?? null
  }
}

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

export function grantFunctionFor (
  unit: string,
  grants: GrantFunctions,
  ledgerUnits: ReadonlySet<string>
): GrantFunction | undefined {
  return Object.hasOwn(grants, unit) ? grants[unit] : ledgerUnits.has(unit) ? ledgerGrant : undefined
}

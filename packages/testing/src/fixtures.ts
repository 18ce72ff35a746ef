import { readFileSync, readdirSync } from 'node:fs'

/**
 * FirstPromoter's example payloads, committed once: the documented v1 examples, their observed
 * variations (`variation-*`), bodies the plugin must refuse (`invalid-*`), and v2 under `v2/`
 * (its README names the source of each).
 */
export const FIXTURES_DIR = new URL('../fixtures/', import.meta.url)

/** FirstPromoter's documented examples, one per v1 event type. */
export const V1_EXAMPLES = [
  'lead_signup', 'lead_becomes_referral', 'new_customer', 'lead_cancelled',
  'promoter_signed_up', 'promoter_accepted', 'reward_created', 'fulfilment_pending'
] as const

/** Every documented example FirstPromoter's docs print in full: the v1 ones and v2 `commission.updated`. */
export const DOCUMENTED_EXAMPLES = [...V1_EXAMPLES, 'commission.updated'] as const

const withJson = (name: string) => name.endsWith('.json') ? name : `${name}.json`

/** The URL of a fixture file, e.g. `fixtureUrl('v2/commission.created')`. */
export const fixtureUrl = (name: string): URL => new URL(withJson(name), FIXTURES_DIR)

/** A fixture's text exactly as committed. */
export const fixtureText = (name: string): string => readFileSync(fixtureUrl(name), 'utf8')

/** A fresh, mutable copy of a fixture (`.json` may be left off). Loosely typed: tests bend it. */
export function fixture<T = any> (name: string): T {
  return JSON.parse(fixtureText(name)) as T
}

/** The `.json` files of a fixtures folder (`''` for v1, `'v2'`), sorted. */
export function fixtureNames (folder = ''): string[] {
  return readdirSync(new URL(folder === '' ? './' : `${folder}/`, FIXTURES_DIR)).filter((f) => f.endsWith('.json')).sort()
}

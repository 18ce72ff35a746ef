import type { NonMonetaryUnit } from 'fastify-firstpromoter'
import type { GrantFunction, GrantFunctions } from './grants.js'
import { createHandlers, isHandlers, type Handlers } from './handlers.js'

const DEFINITION = Symbol.for('@fp-webhooks/worker.definition')

/** Grant functions by unit: the non-monetary units are suggested, any other unit may be added. */
export type DefinitionGrants = Partial<Record<NonMonetaryUnit, GrantFunction>> & GrantFunctions

export interface FirstPromoterDefinitionInput {
  /** A function per unit; it replaces the built-in ledger grant for that unit. */
  grants?: DefinitionGrants
  /** Typed event handlers, from `createHandlers()`. */
  handlers?: Handlers
}

/** One integration: what the api validates at start and the worker runs. */
export interface FirstPromoterDefinition {
  readonly grants: Readonly<GrantFunctions>
  readonly handlers: Handlers
  readonly [DEFINITION]: true
}

/**
 * Declares an integration: its grant functions per unit and its event handlers. Export it as the
 * default export of the module FP_DEFINITION_MODULE names; the api and the worker both load it.
 * @throws TypeError when a grant is not a function or `handlers` was not made by `createHandlers()`
 */
export function defineFirstPromoter (input: FirstPromoterDefinitionInput = {}): FirstPromoterDefinition {
  if (typeof input !== 'object' || input === null) throw new TypeError('defineFirstPromoter() takes { grants, handlers }')
  const unknownKeys = Object.keys(input).filter((k) => k !== 'grants' && k !== 'handlers')
  if (unknownKeys.length > 0) throw new TypeError(`defineFirstPromoter(): unknown option(s) ${unknownKeys.join(', ')}; it takes { grants, handlers }`)
  const grants = input.grants ?? {}
  if (typeof grants !== 'object' || grants === null || Array.isArray(grants)) throw new TypeError('defineFirstPromoter(): grants must be an object of unit -> grant function')
  for (const [unit, grant] of Object.entries(grants)) {
    if (typeof grant !== 'function') throw new TypeError(`defineFirstPromoter(): grants.${unit} must be a function`)
  }
  if (input.handlers !== undefined && !isHandlers(input.handlers)) throw new TypeError('defineFirstPromoter(): handlers must be made with createHandlers()')
  return Object.freeze({
    grants: Object.freeze({ ...grants }),
    handlers: input.handlers ?? createHandlers(),
    [DEFINITION]: true as const
  })
}

/** Whether `value` was made by `defineFirstPromoter()` (of any copy of this package). */
export function isFirstPromoterDefinition (value: unknown): value is FirstPromoterDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true
}

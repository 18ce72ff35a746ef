export { createWorker, DEFAULT_STALE_AFTER_MS, DEFAULT_SWEEP_INTERVAL_MS, DEFAULT_PAUSE_RECHECK_MS, type CreateWorkerOptions, type FulfilmentWorker } from './worker.js'
export { defineFirstPromoter, isFirstPromoterDefinition, type DefinitionGrants, type FirstPromoterDefinition, type FirstPromoterDefinitionInput } from './definition.js'
export { createHandlers, isHandlers, type AnyEventHandler, type EventHandler, type Handlers } from './handlers.js'
export {
  EVENT_ALIASES,
  isFirstPromoterEventType,
  toFirstPromoterEvent,
  type AliasOf,
  type AnyFirstPromoterEvent,
  type FirstPromoterEvent,
  type FirstPromoterEventType,
  type StoredEvent,
  type UnknownFirstPromoterEvent,
  type V1FirstPromoterEvent,
  type V2FirstPromoterEvent
} from './events.js'
export { PermanentGrantError, DEFAULT_LEDGER_UNITS, type GrantFunction, type GrantFunctions, type GrantContext, type GrantRequest, type GrantSource } from './grants.js'
export { loadDefinitionFromEnv, loadDefinitionModule, DefinitionEnv, type DefinitionConfig, type LoadedDefinition } from './modules.js'
export { startConfiguredWorker, type ConfiguredWorker } from './start.js'
export { checkSchema } from './check-schema.js'
export type { PayoutSource, ReconcileReport } from '@fp-webhooks/operations'
export { sweep, type SweepReport } from './processors/sweep.js'
export { createFulfilmentCloser, type ApiCredentials, type FulfilmentCloser } from './closer.js'
export { loadWorkerConfig, WorkerEnvSchema, type WorkerConfig } from './config.js'
export { applyProjections } from './projections.js'
export { startRelay, DEFAULT_RELAY_BATCH, DEFAULT_RELAY_POLL_MS, type RelayOptions, type OutboxRelay } from './relay.js'
export { reconcileV2, type V2ReconcileReport } from '@fp-webhooks/operations'
export { closeV2Commissions, type V2CloseReport } from './v2/close-commissions.js'
export type { V2CommissionApi, V2CloseOptions } from './v2/api.js'

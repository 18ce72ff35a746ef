export { replayEvent, retryFulfilment, type ReplayResult, type RetryResult } from './replay.js'
export { retryClose } from './close.js'
export { resubmitQuarantined, type Injector, type ResubmitResult } from './resubmit.js'
export { reconcile, type PayoutSource, type ReconcileDeps, type ReconcileLog, type ReconcileReport } from './reconcile.js'

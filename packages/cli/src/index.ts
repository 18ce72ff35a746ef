export { main } from './main.js'
export {
  simulate,
  buildPayload,
  freshId,
  allSucceeded,
  DEFAULT_RECHECK_INTERVAL_MS,
  DEFAULT_RETRY_INTERVAL_MS,
  DEFAULT_MAX_RECHECKS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_CONCURRENCY,
  type SimulateOptions,
  type Report,
  type Attempt,
  type Outcome,
  type NextStep
} from './simulate.js'
export { formatReport } from './format.js'
export { examplePayload, EVENT_TYPES, type V1Payload } from './payloads/index.js'
export { parseSet, parseValue, setPath, type SetOperation } from './set-path.js'
export { parseDuration, DURATION_FORMATS } from './duration.js'
export { loadCliConfig, CliEnvSchema, type CliConfig } from './config.js'

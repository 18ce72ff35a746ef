export * from './names.js'
export * from './job-options.js'
export { createProducerConnection, createWorkerConnection } from './connection.js'
export { createBullDispatcher, type BullDispatcher, type BullDispatcherOptions } from './dispatcher.js'

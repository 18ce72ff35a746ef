export { CommonEnv, ConfigError, loadEnv, redactUrl } from './env.js'
export { DependencyError, checkPostgres, checkRedis } from './checks.js'
export { closeGracefully, DUPLICATE_SIGNAL_MS, type GracefulShutdown, type GracefulShutdownOptions } from './lifecycle.js'
export { loadDotEnv } from './dotenv.js'

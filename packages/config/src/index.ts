export { CommonEnv, ConfigError, loadEnv, redactUrl } from './env.js'
export { DependencyError, checkPostgres, checkRedis } from './checks.js'

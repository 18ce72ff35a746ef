export { createTestDatabase, TEST_PG_URL } from './database.js'
export { createRedisPrefix, TEST_REDIS_URL } from './redis.js'
export { captureLogs } from './logs.js'
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js'

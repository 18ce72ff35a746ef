export { app, type AppOptions } from './app.js'
export { buildServer, startServer, loggerOptions } from './server.js'
export { loadApiConfig, ApiEnvSchema, type ApiConfig } from './config.js'

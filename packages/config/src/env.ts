import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { envSchema } from 'env-schema'

/** Variables both apps read (the fixed interface: README "Environment"). */
export const CommonEnv = {
  DATABASE_URL: Type.String({ default: 'postgres://postgres@127.0.0.1:5432/firstpromoter', pattern: '^postgres(ql)?://' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', pattern: '^rediss?://' }),
  QUEUE_PREFIX: Type.String({ default: 'fpw', pattern: '^[A-Za-z0-9_-]+$' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  FP_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  FP_API_URL: Type.String({ default: 'https://firstpromoter.com/api/v1', pattern: '^https?://' }),
  FP_API_V2_KEY: Type.Optional(Type.String({ minLength: 1 })),
  FP_ACCOUNT_ID: Type.Optional(Type.String({ minLength: 1 })),
  FP_API_V2_URL: Type.String({ default: 'https://api.firstpromoter.com/api/v2/company', pattern: '^https?://' })
}

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
  }
}

interface AjvError { instancePath?: string, message?: string, params?: Record<string, unknown> }

function describe (e: AjvError): string {
  if (e.params && typeof e.params.missingProperty === 'string') return `${e.params.missingProperty} is required`
  const name = (e.instancePath ?? '').replace(/^\//, '') || 'environment'
  return `${name} ${e.message ?? 'is invalid'}`
}

/**
 * Reads and checks the environment once, with defaults and type coercion.
 * @throws ConfigError naming every bad or missing variable
 */
export function loadEnv<P extends TProperties> (
  schema: TObject<P>,
  env: NodeJS.ProcessEnv = process.env
): Static<TObject<P>> {
  // Empty strings count as unset, as in most .env files.
  const data = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''))
  try {
    // env: false: read only `data`, so an explicitly passed environment is the whole environment.
    return envSchema<Static<TObject<P>>>({ schema, data, env: false, dotenv: false })
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors
    throw new ConfigError(errors ? errors.map(describe) : [(err as Error).message])
  }
}

/** A connection string fit for a log line: the password masked. */
export function redactUrl (url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable URL)'
  }
}

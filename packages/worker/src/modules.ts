import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { HandlerRegistry } from 'fastify-firstpromoter'
import type { GrantFunctions } from './grants.js'

async function load (variable: string, path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(process.cwd(), path)).href
  try {
    return await import(url) as Record<string, unknown>
  } catch (err) {
    throw new TypeError(`${variable} ${path} cannot be loaded: ${(err as Error).message.split('\n')[0]}`)
  }
}

/**
 * Loads FP_GRANTS_MODULE: a module whose `grants` export (or default export) maps units to grant
 * functions. @throws when the module exports no such object
 */
export async function loadGrantsModule (path: string): Promise<GrantFunctions> {
  const mod = await load('FP_GRANTS_MODULE', path)
  const grants = (mod.grants ?? mod.default) as unknown
  if (typeof grants !== 'object' || grants === null || !Object.values(grants).every((g) => typeof g === 'function')) {
    throw new TypeError(`FP_GRANTS_MODULE ${path} must export \`grants\`: an object of unit -> grant function`)
  }
  return grants as GrantFunctions
}

/** Loads FP_HANDLERS_MODULE: a module whose `handlers` export (or default) is a handler registry. */
export async function loadHandlersModule (path: string): Promise<HandlerRegistry> {
  const mod = await load('FP_HANDLERS_MODULE', path)
  const handlers = (mod.handlers ?? mod.default) as HandlerRegistry | undefined
  if (!handlers || typeof handlers.handlersFor !== 'function') {
    throw new TypeError(`FP_HANDLERS_MODULE ${path} must export \`handlers\`, made with createHandlerRegistry()`)
  }
  return handlers
}

import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '@fp-webhooks/config'
import { Type, type Static } from '@sinclair/typebox'
import { defineFirstPromoter, isFirstPromoterDefinition, type FirstPromoterDefinition } from './definition.js'
import type { GrantFunctions } from './grants.js'
import { isHandlers } from './handlers.js'

/** The variables naming the definition module, shared by the api's and the worker's schemas. */
export const DefinitionEnv = {
  FP_DEFINITION_MODULE: Type.Optional(Type.String({ minLength: 1 })),
  /** Deprecated: read as FP_DEFINITION_MODULE when that is unset. */
  FP_HANDLERS_MODULE: Type.Optional(Type.String({ minLength: 1 })),
  /** Deprecated: a module exporting only `grants`. */
  FP_GRANTS_MODULE: Type.Optional(Type.String({ minLength: 1 }))
}
export type DefinitionConfig = Static<ReturnType<typeof Type.Object<typeof DefinitionEnv>>>

async function load (variable: string, path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(process.cwd(), path)).href
  try {
    return await import(url) as Record<string, unknown>
  } catch (err) {
    throw new TypeError(`${variable} ${path} cannot be loaded: ${(err as Error).message.split('\n')[0]}`)
  }
}

/**
 * Loads a definition module: its default export (or `definition`) made with `defineFirstPromoter()`.
 * A module of the older shape, exporting `handlers` (from `createHandlers()`) and/or `grants`, is
 * read as the definition of those.
 * @throws TypeError naming `variable` when the module cannot be loaded or exports no definition
 */
export async function loadDefinitionModule (path: string, variable = 'FP_DEFINITION_MODULE'): Promise<FirstPromoterDefinition> {
  const mod = await load(variable, path)
  const candidate = mod.default ?? mod.definition
  if (isFirstPromoterDefinition(candidate)) return candidate
  if (isHandlers(mod.handlers) || (mod.grants !== undefined && candidate === undefined)) {
    try {
      return defineFirstPromoter({
        grants: mod.grants as GrantFunctions | undefined,
        handlers: isHandlers(mod.handlers) ? mod.handlers : undefined
      })
    } catch (err) {
      throw new TypeError(`${variable} ${path}: ${(err as Error).message}`)
    }
  }
  throw new TypeError(`${variable} ${path} must \`export default defineFirstPromoter({ grants, handlers })\``)
}

/** Loads FP_GRANTS_MODULE (deprecated): a module whose `grants` export (or default) maps units to grant functions. */
async function loadGrantsModule (path: string): Promise<FirstPromoterDefinition> {
  const mod = await load('FP_GRANTS_MODULE', path)
  const grants = (mod.grants ?? mod.default) as unknown
  if (typeof grants !== 'object' || grants === null || !Object.values(grants).every((g) => typeof g === 'function')) {
    throw new TypeError(`FP_GRANTS_MODULE ${path} must export \`grants\`: an object of unit -> grant function`)
  }
  return defineFirstPromoter({ grants: grants as GrantFunctions })
}

export interface LoadedDefinition {
  definition: FirstPromoterDefinition | undefined
  /** Which variable named it, for the start-up log line. */
  variable: string | undefined
  /** Deprecated variables in use, one line each, to log at start. */
  warnings: string[]
}

/**
 * The definition the environment names: FP_DEFINITION_MODULE, or its deprecated alias
 * FP_HANDLERS_MODULE, or (deprecated) a grants-only FP_GRANTS_MODULE. Undefined when none is set:
 * the built-in ledger grants and no handler runs.
 * @throws ConfigError when two variables disagree; TypeError when the module is not a definition
 */
export async function loadDefinitionFromEnv (config: DefinitionConfig): Promise<LoadedDefinition> {
  const {
    FP_DEFINITION_MODULE: definitionPath,
    FP_HANDLERS_MODULE: handlersPath,
    FP_GRANTS_MODULE: grantsPath
  } = config
  const warnings: string[] = []
  if (definitionPath && handlersPath && definitionPath !== handlersPath) {
    throw new ConfigError(['FP_HANDLERS_MODULE is a deprecated alias of FP_DEFINITION_MODULE; set only FP_DEFINITION_MODULE'])
  }
  const path = definitionPath ?? handlersPath
  if (path && grantsPath) throw new ConfigError(['FP_GRANTS_MODULE is deprecated and cannot be combined with FP_DEFINITION_MODULE: put the grants in the definition module'])
  if (!definitionPath && handlersPath) warnings.push('FP_HANDLERS_MODULE is deprecated: rename it FP_DEFINITION_MODULE')
  if (path) {
    const variable = definitionPath ? 'FP_DEFINITION_MODULE' : 'FP_HANDLERS_MODULE'
    return { definition: await loadDefinitionModule(path, variable), variable, warnings }
  }
  if (grantsPath) {
    warnings.push('FP_GRANTS_MODULE is deprecated: export default defineFirstPromoter({ grants }) from a module named by FP_DEFINITION_MODULE')
    return { definition: await loadGrantsModule(grantsPath), variable: 'FP_GRANTS_MODULE', warnings }
  }
  return { definition: undefined, variable: undefined, warnings }
}

/**
 * Resolves the plugin entries of a config (`{type|name|path, options}`) to
 * instances: built-in types first, then a local module by `path`, then an
 * npm package by `name` (`riptide-<kind>-<name>`, else `<name>` itself).
 * A module's default export (or its export named `Plugin`) is the class.
 */
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { createRequire } from 'node:module'
import type { PluginRef } from '../config/schema.js'
import { RiptideError } from '../errors.js'

export type PluginKind = 'auth' | 'permission' | 'cache' | 'storage' | 'logger' | 'monitoring' | 'locks' | 'clusterNode'
  | 'clusterRegistry' | 'clusterStates' | 'subscriptions' | 'plugin'

export type Constructor<T> = new (...args: never[]) => T

function pickClass (module: Record<string, unknown>, where: string): Constructor<unknown> {
  const candidate = module.default ?? module.Plugin
  if (typeof candidate !== 'function') {
    throw new RiptideError('RT_PLUGIN_INVALID', `${where} must export a plugin class as default export (or as "Plugin")`)
  }
  return candidate as Constructor<unknown>
}

/** Loads the class of a plugin given by path or name; `null` when the entry names a built-in. */
export async function loadPluginClass (kind: PluginKind, ref: PluginRef, configDir: string): Promise<Constructor<unknown> | null> {
  if (ref.path !== undefined) {
    const file = resolve(configDir, ref.path)
    let module: Record<string, unknown>
    try {
      module = await import(pathToFileURL(file).href) as Record<string, unknown>
    } catch (error) {
      throw new RiptideError('RT_PLUGIN_NOT_FOUND', `${kind} plugin: cannot load ${file}: ${(error as Error).message}`, { cause: error })
    }
    return pickClass(module, `${kind} plugin ${file}`)
  }
  if (ref.name === undefined) return null
  const require = createRequire(resolve(configDir, 'package.json'))
  for (const id of [`riptide-${kind.toLowerCase()}-${ref.name}`, ref.name]) {
    let entry: string
    try {
      entry = require.resolve(id)
    } catch {
      continue
    }
    return pickClass(await import(pathToFileURL(entry).href) as Record<string, unknown>, `${kind} plugin ${id}`)
  }
  return null
}

/** Which built-in a plugin entry names, or an error naming the unknown one. */
export function builtinName (kind: PluginKind, ref: PluginRef, known: readonly string[]): string {
  const id = ref.type ?? ref.name ?? 'default'
  if (known.includes(id)) return id
  throw new RiptideError('RT_PLUGIN_NOT_FOUND', `${kind}: unknown type "${id}" (built-in: ${known.join(', ')}; or give a path or an npm name)`)
}

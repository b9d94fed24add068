/**
 * Resolves the plugin entries of a config (`{type|name|path, options}`) to
 * classes: a local module by `path`, or an npm package by `name`, tried as
 * `riptide-<kind>-<name>`, then as deepstream names its packages
 * (`@deepstream/<kind>-<name>`, `deepstream.io-<kind>-<name>`, with
 * deepstream's kind names such as `clusternode` and `authentication`), then
 * `<name>` itself; from the config's folder first, then the working folder.
 * A module's default export (or its export named `Plugin`) is the class,
 * CommonJS modules whose class is `exports.default` included.
 */
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'
import { createRequire } from 'node:module'
import type { PluginRef } from '../config/schema.js'
import { RiptideError, errorMessage } from '../errors.js'

export type PluginKind = 'auth' | 'permission' | 'cache' | 'storage' | 'logger' | 'monitoring' | 'locks' | 'clusterNode'
  | 'clusterRegistry' | 'clusterStates' | 'subscriptions' | 'plugin'

export type Constructor<T> = new (...args: never[]) => T

/** deepstream's name for each kind in its package names (`@deepstream/<kind>-<name>`). */
const DEEPSTREAM_KIND: Readonly<Record<PluginKind, string>> = {
  auth: 'authentication', permission: 'permission', cache: 'cache', storage: 'storage', logger: 'logger', monitoring: 'monitoring',
  locks: 'locks', clusterNode: 'clusternode', clusterRegistry: 'clusterregistry', clusterStates: 'clusterstates', subscriptions: 'subscriptions', plugin: 'plugin',
}

/** The package names a plugin `name` may have, in the order they are tried. */
export function packageCandidates (kind: PluginKind, name: string): string[] {
  const lower = name.toLowerCase()
  return [`riptide-${kind.toLowerCase()}-${name}`, `@deepstream/${DEEPSTREAM_KIND[kind]}-${lower}`, `deepstream.io-${DEEPSTREAM_KIND[kind]}-${lower}`, name]
}

function pickClass (module: Record<string, unknown>, where: string): Constructor<unknown> {
  // import() of a CommonJS module puts module.exports under `default`; deepstream's put the class at exports.default.
  const commonJs = module.default as Record<string, unknown> | undefined
  const nested = typeof commonJs === 'object' && commonJs !== null ? commonJs.default ?? commonJs.Plugin : undefined
  const candidate = typeof nested === 'function' ? nested : module.default ?? module.Plugin
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
      throw new RiptideError('RT_PLUGIN_NOT_FOUND', `${kind} plugin: cannot load ${file}: ${errorMessage(error)}`, { cause: error })
    }
    return pickClass(module, `${kind} plugin ${file}`)
  }
  if (ref.name === undefined) return null
  const requirers = [...new Set([configDir, process.cwd()])].map((dir) => createRequire(resolve(dir, 'package.json')))
  for (const id of packageCandidates(kind, ref.name)) {
    for (const require of requirers) {
      let entry: string
      try {
        entry = require.resolve(id)
      } catch {
        continue
      }
      return pickClass(await import(pathToFileURL(entry).href) as Record<string, unknown>, `${kind} plugin ${id}`)
    }
  }
  return null
}

/** Which built-in a plugin entry names, or an error naming the unknown one. */
export function builtinName (kind: PluginKind, ref: PluginRef, known: readonly string[]): string {
  const id = ref.type ?? ref.name ?? 'default'
  if (known.includes(id)) return id
  throw new RiptideError('RT_PLUGIN_NOT_FOUND', `${kind}: unknown type "${id}" (built-in: ${known.join(', ')}; or give a path or an npm name)`)
}

/**
 * Loads uWebSockets.js and tells whether its native binary is running. The
 * npm build we use falls back silently to a slow JS implementation when the
 * binary for this Node ABI does not load; riptide refuses to serve on it.
 */
import { createRequire } from 'node:module'
import type * as UWS from 'uWebSockets.js'
import { RiptideError } from '../../native-free-core/errors.js'

export type UwsModule = typeof UWS

let loaded: UwsModule | null = null

export function isNativeUws (uws: UwsModule): boolean {
  return /\[native code\]/.test(Function.prototype.toString.call(uws.App))
}

/** The native uWS module; throws RT_UWS_FALLBACK when only the JS fallback loaded. */
export function loadNativeUws (): UwsModule {
  if (loaded !== null) return loaded
  const require = createRequire(import.meta.url)
  const uws = require('uWebSockets.js') as UwsModule
  if (!isNativeUws(uws)) {
    throw new RiptideError('RT_UWS_FALLBACK',
      `uWebSockets.js loaded its JS fallback, not its native binary (Node ABI ${process.versions.modules}, ${process.platform}-${process.arch}). ` +
      'Refusing to serve on it: set httpServer.type to "node" to use the ws library instead.')
  }
  loaded = uws
  return uws
}

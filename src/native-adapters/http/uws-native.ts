/**
 * Loads uWebSockets.js and tells whether its native binary is running. The
 * npm build we use has binaries for Node 20 only, and on other Node lines falls
 * back silently to a slow JS implementation (after printing its own notice);
 * riptide never serves on that fallback. Any uWebSockets.js build installed
 * under the name `uWebSockets.js` is accepted if its `App` is native code.
 */
import { createRequire } from 'node:module'
import type * as UWS from 'uWebSockets.js'
import { RiptideError } from '../../native-free-core/errors.js'

export type UwsModule = typeof UWS

let probed: { uws: UwsModule } | { reason: string } | null = null

export function isNativeUws (uws: UwsModule): boolean {
  return /\[native code\]/.test(Function.prototype.toString.call(uws.App))
}

/** Requires the module with its console notices held back, so that riptide says what happened instead. */
function requireQuietly (): { uws: UwsModule | null, notices: string[] } {
  const notices: string[] = []
  const saved = { log: console.log, warn: console.warn, error: console.error }
  const hold = (...args: unknown[]): void => { notices.push(args.map(String).join(' ').trim()) }
  console.log = hold
  console.warn = hold
  console.error = hold
  try {
    return { uws: createRequire(import.meta.url)('uWebSockets.js') as UwsModule, notices }
  } catch (error) {
    notices.push(String(error))
    return { uws: null, notices }
  } finally {
    Object.assign(console, saved)
  }
}

/** The native uWS module, or why there is none (looked up once per thread). */
export function probeNativeUws (): { uws: UwsModule } | { reason: string } {
  if (probed !== null) return probed
  const { uws, notices } = requireQuietly()
  const abi = `Node ${process.versions.node}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}`
  if (uws !== null && isNativeUws(uws)) probed = { uws }
  else {
    const lines = notices.flatMap((notice) => notice.split('\n')).map((line) => line.trim())
    const cause = lines.find((line) => /^(Error: )?Cannot find module/i.test(line))?.replace(/^Error: /, '') ?? lines.find((line) => line !== '')?.replace(/:$/, '')
    probed = { reason: `uWebSockets.js has no native binary for this Node (${abi}${cause === undefined ? '' : `; it said: ${cause.replace(/[.:;]+$/, '')}`})` }
  }
  return probed
}

/** The native uWS module; throws RT_UWS_FALLBACK when only the JS fallback loads. */
export function loadNativeUws (): UwsModule {
  const probe = probeNativeUws()
  if ('uws' in probe) return probe.uws
  throw new RiptideError('RT_UWS_FALLBACK',
    `${probe.reason}. Refusing to serve on its JS fallback: set httpServer.type to "default" or "node" to serve on Node http + ws instead.`)
}

/**
 * The composition root: the one place that puts a riptide server together from the core and the
 * parts on native packages (the uWS or Node http adapter, LMDB, the Piscina task pool). The public
 * `startServer` (one thread) and each connection worker (src/workers/serve.ts) both start their
 * server here; a worker adds the in-process cluster's plugins.
 */
import type { LoadedConfig } from '../native-free-core/config/loader.js'
import type { Logger } from '../native-free-core/plugins/logger/logger.js'
import type { BuiltinTable } from '../native-free-core/builtins.js'
import type { HttpServerAdapter } from '../native-free-core/http/http-routes.js'
import { RiptideServer, type HttpServerKind, type HttpServerType } from '../native-free-core/server/server.js'
import { UwsHttpServer } from './http/uws-server.js'
import { NodeHttpServer } from './http/node-server.js'
import { probeNativeUws } from './http/uws-native.js'
import { NATIVE_BUILTINS } from './native-builtins.js'
import { PiscinaTaskPool } from './tasks/task-pool.js'

/** The server a configured type gets on this Node; `fallback` says why `default` did not get uWS. */
export function chooseHttpServer (type: HttpServerType): { kind: HttpServerKind, fallback: string | null } {
  if (type === 'node' || type === 'ws') return { kind: 'node', fallback: null }
  if (type === 'uws') return { kind: 'uws', fallback: null }
  const probe = probeNativeUws()
  return 'uws' in probe ? { kind: 'uws', fallback: null } : { kind: 'node', fallback: probe.reason }
}

/** The HTTP server adapter for a configured type (`uws` refuses to start on uWS's JS fallback). */
export function createHttpServer (type: HttpServerType, logger?: Logger): HttpServerAdapter {
  const { kind, fallback } = chooseHttpServer(type)
  if (fallback !== null) logger?.warn('UWS_UNAVAILABLE', `${fallback}: serving on Node http + ws`)
  return kind === 'node' ? new NodeHttpServer() : new UwsHttpServer()
}

export interface NativeServerOptions {
  /** Replaces the configured logger (tests use a silent one). */
  readonly logger?: Logger
  /** Further built-ins by kind (a worker's in-process cluster plugins), beside the native ones. */
  readonly builtins?: BuiltinTable
  /** Also listen here (a worker's own port, so tests can pick a worker). */
  readonly ownPort?: { host: string, port: number }
  /** Told the number of open WebSocket connections whenever it changes. */
  readonly onConnectionCount?: (count: number) => void
}

export function startNativeServer (loaded: LoadedConfig, options: NativeServerOptions = {}): Promise<RiptideServer> {
  const builtins: BuiltinTable = { ...NATIVE_BUILTINS }
  for (const [kind, table] of Object.entries(options.builtins ?? {}) as Array<[keyof BuiltinTable, BuiltinTable[keyof BuiltinTable]]>) {
    builtins[kind] = { ...builtins[kind], ...table }
  }
  return RiptideServer.start(loaded, {
    createHttpServer,
    logger: options.logger,
    builtins,
    ownPort: options.ownPort,
    onConnectionCount: options.onConnectionCount,
    tasks: new PiscinaTaskPool(),
  })
}

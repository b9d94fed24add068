/**
 * The built-in plugin of every kind, by config type, and the construction
 * of custom ones loaded by path or npm name.
 */
import { randomUUID } from 'node:crypto'
import type { Plugin, PluginContext } from './plugins/plugin.js'
import type { PluginRef } from './config/schema.js'
import { builtinName, loadPluginClass, type PluginKind } from './plugins/loader.js'
import { RiptideError } from './errors.js'
import { adaptDeepstreamPlugin } from './plugins/deepstream-compat.js'
import { PinoLogger } from './plugins/logger/pino-logger.js'
import { parseLogLevel, type Logger } from './plugins/logger/logger.js'
import { NoopMonitoring } from './plugins/monitoring/monitoring.js'
import { HttpMonitoring } from './plugins/monitoring/http-monitoring.js'
import { MemoryCache } from './plugins/cache/memory-cache.js'
import { NoopStorage } from './plugins/storage/noop-storage.js'
import { MemoryStorage } from './plugins/storage/memory-storage.js'
import { OpenAuthentication } from './plugins/auth/open-authentication.js'
import { FileAuthentication } from './plugins/auth/file-authentication.js'
import { TokenAuthentication } from './plugins/auth/token-authentication.js'
import { HttpAuthentication } from './plugins/auth/http-authentication.js'
import { OpenPermission } from './plugins/permission/permission.js'
import { ValvePermission } from './plugins/permission/valve/valve-permission.js'
import { SingleClusterNode } from './plugins/cluster-node/single-cluster-node.js'
import { SingleClusterRegistry } from './plugins/cluster-registry/cluster-registry.js'
import { LocalLockRegistry } from './plugins/locks/local-locks.js'
import { LocalStateRegistryFactory } from './plugins/state-registry/local-state-registry.js'
import { LocalSubscriptionRegistryFactory } from './plugins/subscription-registry/local-subscription-registry.js'
import type { StateRegistryFactory } from './plugins/state-registry/state-registry.js'
import type { ClusterNode } from './plugins/cluster-node/cluster-node.js'
import type { Monitoring } from './plugins/monitoring/monitoring.js'

/** Context for plugins built after the cluster plugins exist. */
export interface ClusterContext extends PluginContext {
  readonly clusterNode: ClusterNode
  readonly states: StateRegistryFactory
  readonly monitoring: Monitoring
}

/** Builds one built-in plugin from its config entry. */
export type BuiltinFactory = (ref: PluginRef, context: ClusterContext) => Plugin
/** Extra built-ins by kind and type, for plugins on native packages that this core must not import. */
export type BuiltinTable = Partial<Record<PluginKind, Record<string, BuiltinFactory>>>

const BUILTINS: Record<PluginKind, Record<string, BuiltinFactory>> = {
  logger: {},
  monitoring: { none: () => new NoopMonitoring(), default: () => new NoopMonitoring(), http: (ref) => new HttpMonitoring(ref.options) },
  cache: { default: () => new MemoryCache(), memory: () => new MemoryCache() },
  storage: { default: () => new NoopStorage(), none: () => new NoopStorage(), noop: () => new NoopStorage(), memory: () => new MemoryStorage() },
  auth: { none: () => new OpenAuthentication(), open: () => new OpenAuthentication(), file: (ref, ctx) => new FileAuthentication(ref.options, ctx), token: (ref) => new TokenAuthentication(ref.options), http: (ref, ctx) => new HttpAuthentication(ref.options, ctx.logger) },
  permission: { none: () => new OpenPermission(), open: () => new OpenPermission(), config: (ref, ctx) => new ValvePermission(ref.options, ctx), valve: (ref, ctx) => new ValvePermission(ref.options, ctx) },
  clusterNode: { default: (_r, ctx) => new SingleClusterNode(ctx.serverName), single: (_r, ctx) => new SingleClusterNode(ctx.serverName) },
  clusterRegistry: { default: (_r, ctx) => new SingleClusterRegistry(ctx.serverName) },
  locks: { default: (ref) => new LocalLockRegistry(typeof ref.options.holdTimeout === 'number' ? ref.options.holdTimeout : 1000) },
  clusterStates: { default: () => new LocalStateRegistryFactory() },
  subscriptions: { default: (_r, ctx) => new LocalSubscriptionRegistryFactory({ state: ctx.states, cluster: ctx.clusterNode, monitoring: ctx.monitoring }) },
  plugin: {},
}

/**
 * Builds the plugin an entry names, looking in `extra` after the core's own
 * built-ins. `context` may be partial for kinds built before the cluster plugins.
 */
export async function createPlugin<T extends Plugin> (kind: PluginKind, ref: PluginRef, context: ClusterContext, extra: BuiltinTable = {}): Promise<T> {
  const Loaded = await loadPluginClass(kind, ref, context.configDir)
  if (Loaded !== null) {
    // deepstream's constructor shape: (options, services, config); riptide's context serves as its
    // services, and the config carries this node's resolved name (deepstream's cluster nodes read it).
    const config = { ...context.config, serverName: context.serverName }
    const instance = new (Loaded as unknown as new (options: unknown, context: ClusterContext, config: unknown) => T)(ref.options, context, config)
    if (typeof instance.whenReady !== 'function' || typeof instance.close !== 'function') {
      throw new RiptideError('RT_PLUGIN_INVALID', `${kind} plugin ${ref.path ?? ref.name ?? ''} lacks whenReady() or close()`)
    }
    return adaptDeepstreamPlugin(kind, instance, context.serverName) as T
  }
  const table = { ...BUILTINS[kind], ...extra[kind] }
  return table[builtinName(kind, ref, Object.keys(table))](ref, context) as T
}

export function createLogger (ref: PluginRef, level: unknown): Logger {
  const id = ref.type ?? ref.name ?? 'default'
  if (id !== 'default' && id !== 'pino' && ref.path === undefined) {
    throw new RiptideError('RT_PLUGIN_NOT_FOUND', `logger: unknown type "${id}" (built-in: default, pino; or give a path)`)
  }
  return new PinoLogger({ level: parseLogLevel(level) ?? 'info' })
}

export function resolveServerName (configured: string): string {
  return configured === 'UUID' ? randomUUID() : configured
}

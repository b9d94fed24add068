/**
 * Builds the plugins of one server from the config, in dependency order: logger, monitoring,
 * cache, storage, authentication, permission, then the cluster node, and the registries that reach
 * other nodes through it (cluster registry, locks, state registries, subscription registries).
 * Each is started in `lifecycle`, which closes them in reverse.
 */
import type { LoadedConfig } from '../config/loader.js'
import type { PluginRef } from '../config/schema.js'
import type { Plugin, TaskPool } from '../plugins/plugin.js'
import { LOG_LEVEL_NUMBERS, parseLogLevel, type Logger } from '../plugins/logger/logger.js'
import { CombinedAuthentication, type Authentication } from '../plugins/auth/authentication.js'
import type { Permission } from '../plugins/permission/permission.js'
import type { Cache, Storage } from '../plugins/cache/cache.js'
import type { Monitoring } from '../plugins/monitoring/monitoring.js'
import { createMonitoring } from '../plugins/monitoring/combined-monitoring.js'
import type { ClusterNode } from '../plugins/cluster-node/cluster-node.js'
import type { ClusterRegistry } from '../plugins/cluster-registry/cluster-registry.js'
import type { LockRegistry } from '../plugins/locks/locks.js'
import type { StateRegistryFactory } from '../plugins/state-registry/state-registry.js'
import type { SubscriptionRegistryFactory } from '../plugins/subscription-registry/subscription-registry.js'
import type { Lifecycle } from '../plugins/lifecycle.js'
import type { PluginKind } from '../plugins/loader.js'
import { createPlugin as createAnyPlugin, type BuiltinTable, type ClusterContext } from '../builtins.js'
import { Sessions } from '../connection/sessions.js'
import { RuntimeTimeouts } from '../config/runtime-timeouts.js'
import type { CoreServices } from '../handlers/services.js'

export interface CorePlugins {
  readonly services: CoreServices
  /** Every configured authentication strategy, asked in order. */
  readonly authentication: CombinedAuthentication
  /** Builds a further plugin (a custom endpoint) with the full context. */
  readonly create: <T extends Plugin>(kind: PluginKind, ref: PluginRef) => Promise<T>
}

export interface CorePluginOptions {
  readonly serverName: string
  /** The logger to use until (and unless) the config names one of its own. */
  readonly bootLogger: Logger
  /** True when the caller gave the logger: the config's logger is then not built. */
  readonly loggerGiven: boolean
  readonly builtins?: BuiltinTable
  readonly tasks?: TaskPool
}

export async function startCorePlugins (loaded: LoadedConfig, options: CorePluginOptions, lifecycle: Lifecycle): Promise<CorePlugins> {
  const { config, configDir } = loaded
  const create = <T extends Plugin>(kind: PluginKind, ref: PluginRef, context: ClusterContext): Promise<T> =>
    createAnyPlugin<T>(kind, ref, context, options.builtins)
  const base = { serverName: options.serverName, config, configDir, tasks: options.tasks } as const

  let logger = options.bootLogger
  if (!options.loggerGiven && (config.logger.path !== undefined || (config.logger.name !== undefined && config.logger.name !== 'pino'))) {
    // Plugins built before the cluster plugins get a partial context.
    logger = await create<Logger>('logger', config.logger, { ...base, logger } as ClusterContext)
    logger.setLogLevel(LOG_LEVEL_NUMBERS[parseLogLevel(config.logLevel) ?? 'info'])
  }
  await lifecycle.start('logger', logger)
  for (const warning of loaded.warnings) logger.warn('CONFIG_WARNING', warning)
  const context = { ...base, logger } as ClusterContext

  const monitoring = await lifecycle.start('monitoring', await createMonitoring(config.monitoring, (ref) => create<Monitoring>('monitoring', ref, context)))
  const cache = await lifecycle.start('cache', await create<Cache>('cache', config.cache, context))
  if (cache.setIfVersion === undefined) {
    logger.warn('CACHE_WITHOUT_COMPARE_AND_SET', `${cache.description} cannot compare-and-set: record versions are decided under a lock per record shared by this host's workers; other processes writing the same cache are not covered`)
  }
  const storage = await lifecycle.start('storage', await create<Storage>('storage', config.storage, context))
  const strategies: Authentication[] = []
  const authRefs = Array.isArray(config.auth) ? config.auth : [config.auth]
  for (const ref of authRefs) {
    // In a chain, a strategy that does not recognise the credentials lets the next one try.
    const chained = authRefs.length > 1 ? { ...ref, options: { reportInvalidParameters: false, ...ref.options } } : ref
    strategies.push(await lifecycle.start('auth', await create<Authentication>('auth', chained, context)))
  }
  const permission = await lifecycle.start('permission', await create<Permission>('permission', config.permission, context))

  const clusterNode = await lifecycle.start('clusterNode', await create<ClusterNode>('clusterNode', config.clusterNode, context))
  // The registries reach other nodes through whichever cluster node the config chose.
  const nodeContext = { ...context, clusterNode } as ClusterContext
  const clusterRegistry = await lifecycle.start('clusterRegistry', await create<ClusterRegistry>('clusterRegistry', config.clusterRegistry, nodeContext))
  const locks = await lifecycle.start('locks', await create<LockRegistry>('locks', config.locks, nodeContext))
  const states = await lifecycle.start('clusterStates', await create<StateRegistryFactory>('clusterStates', config.clusterStates, nodeContext))
  const fullContext: ClusterContext = { ...context, clusterNode, states, monitoring }
  const subscriptions = await lifecycle.start('subscriptions', await create<SubscriptionRegistryFactory>('subscriptions', config.subscriptions, fullContext))

  const services: CoreServices = {
    config, logger, monitoring, permission, cache, storage, clusterNode, locks, clusterRegistry, states, subscriptions,
    sessions: new Sessions(),
    timeouts: new RuntimeTimeouts(config),
  }
  return { services, authentication: new CombinedAuthentication(strategies), create: (kind, ref) => create(kind, ref, fullContext) }
}

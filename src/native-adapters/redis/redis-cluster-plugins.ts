/**
 * Hosts joined on Redis as plugins. `clusterNode: { type: redis, options }` is the one line that
 * joins a host: with it, the cluster registry, locks and state registries left at `default` are
 * the Redis ones too, on the cluster node's connections. Each may also be named `redis`
 * explicitly, which needs the Redis cluster node.
 */
import type { BuiltinFactory, BuiltinTable, ClusterContext } from '../../native-free-core/builtins.js'
import type { SharedMemory } from '../../native-free-core/cluster/in-process/shared-memory.js'
import type { PluginKind } from '../../native-free-core/plugins/loader.js'
import { SharedStateRegistryFactory } from '../../native-free-core/cluster/in-process/shared-state-registry.js'
import { WorkerClusterRegistry } from '../../native-free-core/cluster/in-process/worker-cluster-registry.js'
import { ConfigError } from '../../native-free-core/errors.js'
import { RedisClusterNode } from './redis-cluster-node.js'
import { RedisClusterRegistry } from './redis-cluster-registry.js'
import { RedisLockRegistry } from './redis-locks.js'
import { RedisStates } from './redis-states.js'

/** Adds the Redis cluster plugins to the in-process ones (`table`) of worker `index` of host `base`. */
export function withRedisCluster (table: BuiltinTable, shared: SharedMemory, index: number, base: string): BuiltinTable {
  const onRedis = (kind: PluginKind, build: (node: RedisClusterNode, ...args: Parameters<BuiltinFactory>) => ReturnType<BuiltinFactory>): Record<string, BuiltinFactory> => {
    const inProcess = table[kind]?.default
    const redisNode = (context: ClusterContext): RedisClusterNode | null => context.clusterNode instanceof RedisClusterNode ? context.clusterNode : null
    return {
      ...table[kind],
      default: (ref, context) => {
        const node = redisNode(context)
        if (node !== null) return build(node, ref, context)
        if (inProcess === undefined) throw new ConfigError(`${kind}: no default`)
        return inProcess(ref, context)
      },
      redis: (ref, context) => {
        const node = redisNode(context)
        if (node === null) throw new ConfigError(`${kind}.type: redis needs clusterNode: { type: redis } (the Redis ${kind} shares the cluster node's connection to Redis)`)
        return build(node, ref, context)
      },
    }
  }
  return {
    ...table,
    clusterNode: { ...table.clusterNode, redis: (ref, context) => new RedisClusterNode(shared, index, base, context.logger, ref.options) },
    clusterRegistry: onRedis('clusterRegistry', (node, _ref, context) => new RedisClusterRegistry(node, new WorkerClusterRegistry(shared, index, base, node), context.logger)),
    locks: onRedis('locks', (node, ref) => new RedisLockRegistry(node.redis, node.serverName, typeof ref.options.holdTimeout === 'number' ? ref.options.holdTimeout : 1000)),
    clusterStates: onRedis('clusterStates', (node, _ref, context) => {
      const otherHosts = new RedisStates(node, shared, context.logger)
      const factory = new SharedStateRegistryFactory(shared, index, node, base, otherHosts, `redis state registries (worker ${index})`)
      otherHosts.bind(factory)
      return factory
    }),
  }
}

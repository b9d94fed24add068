/**
 * The in-process cluster as plugins: what one worker thread of a multi-worker server uses as its
 * cluster node, cluster registry, locks and state registries, all over the SharedMemory the
 * supervisor created. A config may still name others; the registries then take whichever cluster
 * node the config chose from their context.
 */
import type { BuiltinTable } from '../../builtins.js'
import type { SharedMemory } from './shared-memory.js'
import { WorkerClusterNode } from './worker-cluster-node.js'
import { WorkerClusterRegistry } from './worker-cluster-registry.js'
import { SharedLockRegistry } from './shared-locks.js'
import { SharedStateRegistryFactory } from './shared-state-registry.js'

/** The `default` cluster plugins of worker `index`, whose server name is `<base>/<index>`. */
export function inProcessClusterPlugins (shared: SharedMemory, index: number, base: string): BuiltinTable {
  return {
    clusterNode: { default: (_ref, context) => new WorkerClusterNode(shared, index, base, context.logger) },
    clusterRegistry: { default: (_ref, context) => new WorkerClusterRegistry(shared, index, base, context.clusterNode) },
    locks: { default: (ref) => new SharedLockRegistry(shared, index, typeof ref.options.holdTimeout === 'number' ? ref.options.holdTimeout : 1000) },
    clusterStates: { default: (_ref, context) => new SharedStateRegistryFactory(shared, index, context.clusterNode, base) },
  }
}

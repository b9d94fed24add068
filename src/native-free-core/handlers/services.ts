import type { RiptideConfig } from '../config/schema.js'
import type { Logger } from '../plugins/logger/logger.js'
import type { Monitoring } from '../plugins/monitoring/monitoring.js'
import type { Permission } from '../plugins/permission/permission.js'
import type { Cache, Storage } from '../plugins/cache/cache.js'
import type { ClusterNode } from '../plugins/cluster-node/cluster-node.js'
import type { LockRegistry } from '../plugins/locks/locks.js'
import type { ClusterRegistry } from '../plugins/cluster-registry/cluster-registry.js'
import type { StateRegistryFactory } from '../plugins/state-registry/state-registry.js'
import type { SubscriptionRegistryFactory } from '../plugins/subscription-registry/subscription-registry.js'
import type { Socket } from '../connection/socket.js'
import type { Message } from '../protocol/message.js'
import type { Sessions } from '../connection/sessions.js'
import type { RuntimeTimeouts } from '../config/runtime-timeouts.js'

/** What the topic handlers reach the rest of the server through: interfaces only. */
export interface CoreServices {
  readonly config: RiptideConfig
  readonly logger: Logger
  readonly monitoring: Monitoring
  readonly permission: Permission
  readonly cache: Cache
  readonly storage: Storage
  readonly clusterNode: ClusterNode
  readonly locks: LockRegistry
  readonly clusterRegistry: ClusterRegistry
  readonly states: StateRegistryFactory
  readonly subscriptions: SubscriptionRegistryFactory
  readonly sessions: Sessions
  /** Timeouts a plugin may change at run time: read them here at each use, not from `config`. */
  readonly timeouts: RuntimeTimeouts
}

/** One topic's behaviour. `handle` never throws: failures answer the client. */
export interface TopicHandler {
  handle (socket: Socket, message: Message): void
  onSocketClosed (socket: Socket): void
  close (): Promise<void>
}

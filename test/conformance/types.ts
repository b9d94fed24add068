export type { LockRegistry, StateRegistryFactory, SubscriptionRegistryFactory, ClusterRegistry, ClusterNode, Message } from '../../src/index.js'
export type { Socket } from '../../src/native-free-core/connection/socket.js'

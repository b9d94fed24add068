import type { SubscriptionListener, SubscriptionRegistry, SubscriptionRegistryFactory } from './subscription-registry.js'
import { subscriptionChannel } from './subscription-registry.js'
import type { StateRegistry, StateRegistryFactory } from '../state-registry/state-registry.js'
import type { ClusterNode } from '../cluster-node/cluster-node.js'
import type { Monitoring } from '../monitoring/monitoring.js'
import type { Socket } from '../../connection/socket.js'
import { CODEC_COUNT, type Message } from '../../protocol/message.js'
import { SimplePlugin } from '../plugin.js'

const EMPTY: ReadonlySet<Socket> = new Set()

export class LocalSubscriptionRegistry implements SubscriptionRegistry {
  private readonly byName = new Map<string, Set<Socket>>()
  private readonly bySocket = new Map<Socket, Set<string>>()
  private listener: SubscriptionListener | null = null
  private readonly frames: Array<Uint8Array | string | undefined> = new Array(CODEC_COUNT)

  constructor (
    private readonly topic: string,
    private readonly state: StateRegistry,
    private readonly cluster: ClusterNode,
    private readonly monitoring: Monitoring,
  ) {
    state.onAdd((name) => this.listener?.onFirstSubscription(name))
    state.onRemove((name) => this.listener?.onLastSubscription(name))
  }

  setListener (listener: SubscriptionListener): void { this.listener = listener }

  subscribe (name: string, socket: Socket): boolean {
    let sockets = this.byName.get(name)
    if (sockets === undefined) {
      sockets = new Set()
      this.byName.set(name, sockets)
    } else if (sockets.has(socket)) {
      return false
    }
    sockets.add(socket)
    let names = this.bySocket.get(socket)
    if (names === undefined) {
      names = new Set()
      this.bySocket.set(socket, names)
    }
    names.add(name)
    if (sockets.size === 1) this.state.add(name)
    return true
  }

  unsubscribe (name: string, socket: Socket): boolean {
    const sockets = this.byName.get(name)
    if (sockets === undefined || !sockets.delete(socket)) return false
    const names = this.bySocket.get(socket)
    names?.delete(name)
    if (names?.size === 0) this.bySocket.delete(socket)
    if (sockets.size === 0) {
      this.byName.delete(name)
      this.state.remove(name)
    }
    return true
  }

  removeSocket (socket: Socket): string[] {
    const names = this.bySocket.get(socket)
    if (names === undefined) return []
    const left = [...names]
    for (const name of left) this.unsubscribe(name, socket)
    return left
  }

  isSubscribed (name: string, socket: Socket): boolean { return this.byName.get(name)?.has(socket) === true }
  countFor (socket: Socket): number { return this.bySocket.get(socket)?.size ?? 0 }
  getLocalSubscribers (name: string): ReadonlySet<Socket> { return this.byName.get(name) ?? EMPTY }
  hasSubscribers (name: string): boolean { return this.state.has(name) }
  nodesWith (name: string): readonly string[] { return this.state.nodesWith?.(name) ?? [] }
  getNames (): string[] { return this.state.getAll() }

  sendToSubscribers (name: string, message: Message, sender: Socket | null, localOnly = false): number {
    if (!localOnly) {
      const targets = this.state.nodesWith?.(name)
      if (targets === undefined) this.cluster.send(subscriptionChannel(this.topic), message)
      else if (targets.length > 0) this.cluster.sendTo(targets, subscriptionChannel(this.topic), message)
    }
    const sockets = this.byName.get(name)
    if (sockets === undefined) return 0
    const frames = this.frames
    frames.fill(undefined)
    let count = 0
    for (const socket of sockets) {
      if (socket === sender || socket.isClosed) continue
      const index = socket.codec.index
      let frame = frames[index]
      if (frame === undefined) frame = frames[index] = socket.codec.encode(message)
      socket.sendFrame(frame)
      count++
    }
    frames.fill(undefined)
    this.monitoring.onBroadcast(message, count)
    return count
  }
}

/** The default: subscriptions in this process, cluster-wide names in the state registry. */
export class LocalSubscriptionRegistryFactory extends SimplePlugin implements SubscriptionRegistryFactory {
  readonly description = 'in-memory subscription registries'
  private readonly registries = new Map<string, LocalSubscriptionRegistry>()

  constructor (private readonly deps: { state: StateRegistryFactory, cluster: ClusterNode, monitoring: Monitoring }) { super() }

  getSubscriptionRegistry (topic: string): SubscriptionRegistry {
    let registry = this.registries.get(topic)
    if (registry === undefined) {
      registry = new LocalSubscriptionRegistry(topic, this.deps.state.getStateRegistry(`subscriptions/${topic}`), this.deps.cluster, this.deps.monitoring)
      this.registries.set(topic, registry)
    }
    return registry
  }
}

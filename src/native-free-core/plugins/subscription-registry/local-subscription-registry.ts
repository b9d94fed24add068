import type { SubscriptionListener, SubscriptionRegistry, SubscriptionRegistryFactory } from './subscription-registry.js'
import { subscriptionChannel } from './subscription-registry.js'
import type { StateRegistry, StateRegistryFactory } from '../state-registry/state-registry.js'
import type { ClusterNode, EncodedFrames } from '../cluster-node/cluster-node.js'
import type { Monitoring } from '../monitoring/monitoring.js'
import type { Socket } from '../../connection/socket.js'
import { CODEC_COUNT, type Codec, type Message } from '../../protocol/message.js'
import type { TopicHub, TransportTopics } from '../../connection/transport.js'
import { afterPublishesWritten, flushPublishes, queuePublish } from '../../connection/turn-output.js'
import { SimplePlugin } from '../plugin.js'

const EMPTY: ReadonlySet<Socket> = new Set()

/**
 * The members of one codec's adapter topic for a name. `topic` is built once: a string made by
 * concatenation anew for each publish would be flattened and converted by uWS each time.
 */
interface TopicGroup { readonly codec: Codec, readonly topic: string, count: number }

/**
 * A name's local subscribers. Sockets whose adapter publishes (uWS) are members of one adapter
 * topic per codec and get a message from one `publish`; the others are sent each frame.
 */
class Subscribers {
  readonly all = new Set<Socket>()
  /** Sockets sent each frame by `sendFrame`. */
  direct: Set<Socket> | null = null
  /** Per codec index, the members of that codec's topic. */
  groups: Array<TopicGroup | undefined> | null = null
}

export class LocalSubscriptionRegistry implements SubscriptionRegistry {
  private readonly byName = new Map<string, Subscribers>()
  private readonly bySocket = new Map<Socket, Set<string>>()
  private listener: SubscriptionListener | null = null
  private readonly frames: Array<Uint8Array | string | undefined> = new Array(CODEC_COUNT)
  /** The adapter that publishes to topics; sockets of another adapter (there is none today) are sent each frame. */
  private hub: TopicHub | null = null
  /** Adapter topic prefixes by codec index: this registry's topic key, then the codec. */
  private readonly prefixes: string[] = []
  private readonly channel: string

  constructor (
    private readonly topic: string,
    private readonly state: StateRegistry,
    private readonly cluster: ClusterNode,
    private readonly monitoring: Monitoring,
  ) {
    this.channel = subscriptionChannel(topic)
    state.onAdd((name) => this.listener?.onFirstSubscription(name))
    state.onRemove((name) => this.listener?.onLastSubscription(name))
  }

  setListener (listener: SubscriptionListener): void { this.listener = listener }

  subscribe (name: string, socket: Socket): boolean {
    let subscribers = this.byName.get(name)
    if (subscribers === undefined) {
      subscribers = new Subscribers()
      this.byName.set(name, subscribers)
    } else if (subscribers.all.has(socket)) {
      return false
    }
    subscribers.all.add(socket)
    if (this.publishes(socket)) {
      const index = socket.codec.index
      const groups = subscribers.groups ??= []
      const group = groups[index] ??= { codec: socket.codec, topic: this.adapterTopic(index, name), count: 0 }
      flushPublishes() // a member receives what is published after it joined
      socket.topics.join(group.topic)
      group.count++
    } else {
      (subscribers.direct ??= new Set()).add(socket)
    }
    let names = this.bySocket.get(socket)
    if (names === undefined) {
      names = new Set()
      this.bySocket.set(socket, names)
    }
    names.add(name)
    if (subscribers.all.size === 1) {
      this.state.add(name)
      this.cluster.watch?.(this.channel, name, true)
    }
    return true
  }

  unsubscribe (name: string, socket: Socket): boolean {
    const subscribers = this.byName.get(name)
    if (subscribers === undefined || !subscribers.all.delete(socket)) return false
    if (subscribers.direct?.delete(socket) !== true && socket.topics !== undefined) {
      const index = socket.codec.index
      const group = subscribers.groups?.[index]
      flushPublishes() // ... and what was published before it left
      socket.topics.leave(group?.topic ?? this.adapterTopic(index, name))
      if (group !== undefined && --group.count === 0) {
        subscribers.groups![index] = undefined
        if (subscribers.groups!.every((left) => left === undefined)) subscribers.groups = null
      }
    }
    const names = this.bySocket.get(socket)
    names?.delete(name)
    if (names?.size === 0) this.bySocket.delete(socket)
    if (subscribers.all.size === 0) {
      this.byName.delete(name)
      this.state.remove(name)
      this.cluster.watch?.(this.channel, name, false)
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

  isSubscribed (name: string, socket: Socket): boolean { return this.byName.get(name)?.all.has(socket) === true }
  countFor (socket: Socket): number { return this.bySocket.get(socket)?.size ?? 0 }
  getLocalSubscribers (name: string): ReadonlySet<Socket> { return this.byName.get(name)?.all ?? EMPTY }
  hasSubscribers (name: string): boolean { return this.state.has(name) }
  nodesWith (name: string): readonly string[] { return this.state.nodesWith?.(name) ?? [] }
  getNames (): string[] { return this.state.getAll() }

  publish (name: string, message: Message, sender: Socket | null): number {
    // What other nodes published before goes out first (see ClusterNode.deliverPending).
    this.cluster.deliverPending?.()
    try {
      const count = this.deliverLocally(name, message, sender)
      // Receivers pass the frames encoded here on to their subscribers instead of encoding again.
      this.sendToNodesWith(name, message)
      this.cluster.publishToHosts?.(this.channel, name, message, this.frames)
      return count
    } finally {
      this.frames.fill(undefined)
    }
  }

  whenDelivered (name: string, sender: Socket | null): Promise<void> | null {
    // Other workers: a fence behind the updates sent them. This worker: what this iteration
    // publishes and queues is written by the next (turn-output.ts).
    const others = this.cluster.fence !== undefined && this.state.workersWith !== undefined ? this.cluster.fence(this.state.workersWith(name)) : null
    const subscribers = this.byName.get(name)
    if (subscribers === undefined || subscribers.all.size === (sender !== null && subscribers.all.has(sender) ? 1 : 0)) return others
    const here = afterPublishesWritten()
    return others === null ? here : Promise.all([here, others]).then(() => undefined)
  }

  /** To the other nodes holding `name`: by worker bitmask in process, by name otherwise, to all when unknown. */
  private sendToNodesWith (name: string, message: Message): void {
    const cluster = this.cluster
    if (cluster.sendToWorkers !== undefined && this.state.workersWith !== undefined) {
      const mask = this.state.workersWith(name)
      if (mask !== 0) cluster.sendToWorkers(mask, this.channel, message, this.frames)
      return
    }
    const targets = this.state.nodesWith?.(name)
    if (targets === undefined) cluster.send(this.channel, message, this.frames)
    else if (targets.length > 0) cluster.sendTo(targets, this.channel, message, this.frames)
  }

  sendToLocalSubscribers (name: string, message: Message, sender: Socket | null, frames?: EncodedFrames): number {
    if (frames !== undefined) for (let index = 0; index < CODEC_COUNT; index++) this.frames[index] = frames[index]
    try {
      return this.deliverLocally(name, message, sender)
    } finally {
      this.frames.fill(undefined)
    }
  }

  /** Delivers to the local subscribers, encoding into `this.frames` what is not there yet; the caller clears it. */
  private deliverLocally (name: string, message: Message, sender: Socket | null): number {
    const subscribers = this.byName.get(name)
    if (subscribers === undefined) return 0
    const frames = this.frames
    let count = 0
    if (subscribers.groups !== null) count += this.publishToTopics(subscribers, message, sender)
    if (subscribers.direct !== null) {
      for (const socket of subscribers.direct) {
        if (socket === sender || socket.isClosed) continue
        const index = socket.codec.index
        let frame = frames[index]
        if (frame === undefined) frame = frames[index] = socket.codec.encode(message)
        socket.sendFrame(frame)
        count++
      }
    }
    this.monitoring.onBroadcast(message, count)
    return count
  }

  /**
   * One publish per codec with members, at the end of this iteration (turn-output.ts); the adapter
   * leaves out the sender. Returns the members reached.
   */
  private publishToTopics (subscribers: Subscribers, message: Message, sender: Socket | null): number {
    const hub = this.hub!
    const groups = subscribers.groups!
    let count = 0
    for (let index = 0; index < groups.length; index++) {
      const group = groups[index]
      if (group === undefined) continue
      const { codec, topic } = group
      const frame = this.frames[index] ??= codec.encode(message)
      if (sender !== null && sender.topics !== undefined && sender.codec.index === index && subscribers.all.has(sender) && subscribers.direct?.has(sender) !== true) {
        queuePublish(hub, sender.topics, topic, frame, codec.isBinary)
        count += group.count - 1
      } else {
        queuePublish(hub, null, topic, frame, codec.isBinary)
        count += group.count
      }
    }
    return count
  }

  /** Whether the socket's frames go through its adapter's topics (one adapter per registry). */
  private publishes (socket: Socket): socket is Socket & { topics: TransportTopics } {
    const topics = socket.topics
    if (topics === undefined) return false
    this.hub ??= topics.hub
    return topics.hub === this.hub
  }

  private adapterTopic (index: number, name: string): string {
    return (this.prefixes[index] ??= `${this.topic}/${index}/`) + name
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

import type { Plugin } from '../plugin.js'
import type { Socket } from '../../connection/socket.js'
import type { EncodedFrames } from '../cluster-node/cluster-node.js'
import type { Message } from '../../protocol/message.js'

/** Signals on cluster-wide transitions of a name's subscriber count. */
export interface SubscriptionListener {
  /** The name went from no subscriber anywhere to one. */
  onFirstSubscription (name: string): void
  /** The name's last subscriber anywhere left. */
  onLastSubscription (name: string): void
}

/**
 * Who is subscribed to which name, for one topic. Local sockets are held
 * here; the cluster-wide view goes through a state registry so that it can
 * live in shared memory.
 */
export interface SubscriptionRegistry {
  /** Returns false, changing nothing, when the socket was already subscribed. */
  subscribe (name: string, socket: Socket): boolean
  /** Returns false when the socket was not subscribed. */
  unsubscribe (name: string, socket: Socket): boolean
  /** Unsubscribes the socket from every name; returns those names. */
  removeSocket (socket: Socket): string[]
  isSubscribed (name: string, socket: Socket): boolean
  /** How many names the socket is subscribed to here. */
  countFor (socket: Socket): number
  getLocalSubscribers (name: string): ReadonlySet<Socket>
  /** The other nodes with a subscriber (this one excluded); empty when unknown or none. */
  nodesWith (name: string): readonly string[]
  /** Whether any node has a subscriber. */
  hasSubscribers (name: string): boolean
  /** Every name with a subscriber on any node. */
  getNames (): string[]
  /**
   * Sends to every local subscriber except `sender`, encoding once per codec (the cluster
   * channel's receivers call this, passing on the frames the sender encoded). Returns the number
   * of deliveries.
   */
  sendToLocalSubscribers (name: string, message: Message, sender: Socket | null, frames?: EncodedFrames): number
  /**
   * Sends to the local subscribers as `sendToLocalSubscribers`, then to the other nodes with
   * subscribers of `name` on this registry's cluster channel, offering the frames it encoded.
   * Returns the local deliveries.
   */
  publish (name: string, message: Message, sender: Socket | null): number
  /**
   * Resolves once what was published about `name` so far has been written to its subscribers
   * other than `sender`, on this node and on the other worker threads of its process; null when
   * there is nothing to wait for. A write's acknowledgement waits for it, so that the writer never
   * hears of its write before the record's other subscribers are sent its update. Optional: a
   * registry without it acknowledges at once.
   */
  whenDelivered? (name: string, sender: Socket | null): Promise<void> | null
  setListener (listener: SubscriptionListener): void
}

export interface SubscriptionRegistryFactory extends Plugin {
  /** One registry per topic key (`record`, `event`, `rpc`, `presence`, …). */
  getSubscriptionRegistry (topic: string): SubscriptionRegistry
}

/** The cluster channel on which a topic's fan-out travels. */
export function subscriptionChannel (topic: string): string { return `subscriptions/${topic}` }

import type { Plugin } from '../plugin.js'
import type { Message } from '../../protocol/message.js'

/**
 * The message as client codecs encode it, by codec index (`Codec.index`); an absent codec is
 * encoded from the message. Frames let a receiver pass bytes on without encoding them again.
 */
export type EncodedFrames = ReadonlyArray<Uint8Array | string | undefined>

/**
 * `receivedAt`: when the client frame behind the message reached the sending node (ms since the
 * epoch), or 0. `frames`: what the sender already encoded, when its cluster node carries them.
 */
export type ClusterMessageHandler = (message: Message, fromServer: string, receivedAt: number, frames?: EncodedFrames) => void

/**
 * The message bus between server nodes (worker threads of one host, or
 * hosts). Delivery per channel is in send order from one sender; a node
 * never receives its own sends.
 */
export interface ClusterNode extends Plugin {
  readonly serverName: string
  /** Delivers to every other node subscribed to `channel`; `frames` as for sendTo. */
  send (channel: string, message: Message, frames?: EncodedFrames): void
  /** Delivers to one node; silently dropped when that node is gone. */
  sendDirect (serverName: string, channel: string, message: Message): void
  /**
   * Delivers to each named node (encoding once); names of gone nodes are skipped. `frames`, the
   * message already encoded for clients, is an offer: a node may carry them or leave them out.
   */
  sendTo (serverNames: readonly string[], channel: string, message: Message, frames?: EncodedFrames): void
  /**
   * Delivers to the worker threads of this process whose bits are set in `mask` (bit i: worker
   * i), as sendTo does by name; only the in-process cluster node has it (see
   * StateRegistry.workersWith).
   */
  sendToWorkers? (mask: number, channel: string, message: Message, frames?: EncodedFrames): void
  /**
   * Hands this node's handlers, now, what other nodes have sent it so far (the in-process node:
   * its ring). A publish calls it first, so that what a subscriber had from another node before
   * reaches it before what this node publishes after: the update of version 1, written on
   * another worker, before this worker's version 2.
   */
  deliverPending? (): void
  /**
   * The in-process node: resolves once the worker threads whose bits are set in `mask` (this one
   * and gone ones left out) have handled what this worker sent them so far, and their sockets have
   * been written what that published (a write is acknowledged after its update reached the
   * record's subscribers on every worker). Null when no such worker is left. A worker that has not
   * answered within about a second is given up on, so a stuck or dying worker delays, never
   * blocks.
   */
  fence? (mask: number): Promise<void> | null
  /**
   * Cluster nodes that span hosts (the Redis node): this node has local subscribers of `name` on
   * the subscription channel `channel` (`watching`), or no longer has any. While it watches, what
   * other hosts publish about `name` on `channel` reaches this node's handler of `channel`.
   */
  watch? (channel: string, name: string, watching: boolean): void
  /**
   * Cluster nodes that span hosts: hands a message about `name` on the subscription channel
   * `channel` to the nodes of other hosts that watch it (the nodes of this host get it by `send`
   * or `sendToWorkers`); `frames` as for sendTo.
   */
  publishToHosts? (channel: string, name: string, message: Message, frames?: EncodedFrames): void
  /** Registers the handler of a channel. One handler per channel. */
  subscribe (channel: string, handler: ClusterMessageHandler): void
}

import type { Plugin } from '../plugin.js'
import type { Message } from '../../protocol/message.js'

/** `receivedAt`: when the client frame behind the message reached the sending node (ms since the epoch), or 0. */
export type ClusterMessageHandler = (message: Message, fromServer: string, receivedAt: number) => void

/**
 * The message bus between server nodes (worker threads of one host, or
 * hosts). Delivery per channel is in send order from one sender; a node
 * never receives its own sends.
 */
export interface ClusterNode extends Plugin {
  readonly serverName: string
  /** Delivers to every other node subscribed to `channel`. */
  send (channel: string, message: Message): void
  /** Delivers to one node; silently dropped when that node is gone. */
  sendDirect (serverName: string, channel: string, message: Message): void
  /** Delivers to each named node (encoding once); names of gone nodes are skipped. */
  sendTo (serverNames: readonly string[], channel: string, message: Message): void
  /** Registers the handler of a channel. One handler per channel. */
  subscribe (channel: string, handler: ClusterMessageHandler): void
}

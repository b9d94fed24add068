import type { Codec, JSONValue, Message } from '../protocol/message.js'
import type { HandshakeData } from '../plugins/auth/authentication.js'
import type { TransportTopics } from './transport.js'

/** Who a socket belongs to, once it has logged in. */
export interface UserSession {
  readonly id: string
  readonly clientData: JSONValue | null
  readonly serverData: JSONValue | null
}

/**
 * A client connection as the handlers see it, whatever the transport.
 * `send` encodes with the socket's codec; `sendFrame` sends bytes already
 * encoded with that codec (fan-out encodes once per codec).
 */
export interface Socket {
  readonly id: number
  readonly codec: Codec
  /** Endpoint type: ws-binary, ws-json, ws-native, http, or a custom endpoint's name. */
  readonly endpoint: string
  readonly user: UserSession | null
  readonly isClosed: boolean
  /** Names this socket may subscribe to per topic (absent: no limit). */
  readonly maxSubscriptions?: number
  /** A server-side socket (the plugin API's): every permission check passes. */
  readonly trusted?: boolean
  /** How the client connected, for sockets of a WebSocket connection. */
  readonly handshake?: HandshakeData
  /**
   * The adapter's publish/subscribe for this socket, when it has one: fan-out then joins the
   * socket to a topic and publishes once, instead of sending it each frame.
   */
  readonly topics?: TransportTopics
  send (message: Message): void
  sendFrame (frame: Uint8Array | string): void
  close (reason?: string): void
}

let nextSocketId = 1
export function allocateSocketId (): number { return nextSocketId++ }

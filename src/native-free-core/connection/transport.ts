import type { HandshakeData } from '../plugins/auth/authentication.js'

/**
 * One WebSocket as an HTTP server adapter (uWS or ws) exposes it to the
 * core. `send` queues the frame; it returns false when the socket is over
 * its backpressure limit (the frame is still queued).
 */
export interface Transport {
  send (frame: Uint8Array | string, isBinary: boolean): boolean
  /**
   * Sends several frames, in order, as one write where the adapter can (uWS corks them); false as
   * for `send`. Absent: the frames go one `send` each.
   */
  sendMany? (frames: ReadonlyArray<Uint8Array | string>, isBinary: boolean): boolean
  /** Closes with a close frame; the adapter then reports the close. */
  close (code: number, reason: string): void
  /** Bytes queued and not yet written to the kernel. */
  bufferedAmount (): number
  /** The adapter's publish/subscribe, when it has one (uWS topics). */
  readonly topics?: TransportTopics
}

/**
 * Publish/subscribe done by the adapter: one `publish` hands a frame to the
 * adapter, which writes it to every member of the topic in native code,
 * corked, after the frames already sent to each member.
 */
export interface TopicHub {
  publish (topic: string, frame: Uint8Array | string, isBinary: boolean): void
}

/** One socket's side of its adapter's publish/subscribe. */
export interface TransportTopics {
  /** The adapter's hub: the same object for every socket of one adapter. */
  readonly hub: TopicHub
  join (topic: string): void
  leave (topic: string): void
  /** Publishes to every member of `topic` except this socket. */
  publishFromHere (topic: string, frame: Uint8Array | string, isBinary: boolean): void
}

/** The per-connection callbacks an adapter drives. */
export interface TransportSession {
  onMessage (frame: ArrayBuffer | Uint8Array | string, isBinary: boolean): void
  onClose (): void
  /**
   * Closes the socket if it is over its send-buffer limit. Adapters that publish call it for
   * their sockets after publishing many bytes, since no `send` of the core reported them.
   */
  checkSendBuffer? (): void
}

/** Bytes a socket may have unsent before it is closed as a slow consumer, unless configured. */
export const DEFAULT_MAX_SEND_BUFFER = 8 * 1024 * 1024

/** A WebSocket route as the core registers it with an HTTP server adapter. */
export interface WebSocketRoute {
  readonly path: string
  readonly maxMessageSize: number
  /** Seconds of silence before the adapter closes the socket (0 = never). */
  readonly idleTimeoutSeconds: number
  /** Bytes a socket may have unsent before it is closed as a slow consumer (absent: DEFAULT_MAX_SEND_BUFFER). */
  readonly maxSendBuffer?: number
  open (transport: Transport, handshake: HandshakeData): TransportSession
}

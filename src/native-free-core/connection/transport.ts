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
}

/** The per-connection callbacks an adapter drives. */
export interface TransportSession {
  onMessage (frame: ArrayBuffer | Uint8Array | string, isBinary: boolean): void
  onClose (): void
}

/** A WebSocket route as the core registers it with an HTTP server adapter. */
export interface WebSocketRoute {
  readonly path: string
  readonly maxMessageSize: number
  /** Seconds of silence before the adapter closes the socket (0 = never). */
  readonly idleTimeoutSeconds: number
  open (transport: Transport, handshake: HandshakeData): TransportSession
}

import type { Codec, Message } from '../protocol/message.js'
import type { Socket, UserSession } from './socket.js'
import { allocateSocketId } from './socket.js'
import type { Transport } from './transport.js'
import type { HandshakeData } from '../plugins/auth/authentication.js'
import type { Monitoring } from '../plugins/monitoring/monitoring.js'

export type SocketState = 'awaiting-challenge' | 'awaiting-auth' | 'authenticating' | 'open' | 'closed'

/** A WebSocket client: the Socket the handlers see, plus connection state. */
export class ClientSocket implements Socket {
  readonly id = allocateSocketId()
  user: UserSession | null = null
  state: SocketState = 'awaiting-challenge'
  authAttempts = 0
  lastMessageAt = Date.now()
  sdk: { type?: string, version?: string } = {}
  /** Messages held back while an earlier one of this socket awaits an async step. */
  backlog: Message[] | null = null
  unauthenticatedTimer: NodeJS.Timeout | null = null
  private readonly closeListeners: Array<(socket: ClientSocket) => void> = []

  constructor (
    readonly codec: Codec,
    readonly endpoint: string,
    private readonly transport: Transport,
    readonly handshake: HandshakeData,
    private readonly monitoring: Monitoring,
  ) {}

  get isClosed (): boolean { return this.state === 'closed' }

  send (message: Message): void {
    if (this.state === 'closed') return
    this.monitoring.onMessageSend(message)
    this.transport.send(this.codec.encode(message), this.codec.isBinary)
  }

  sendFrame (frame: Uint8Array | string): void {
    if (this.state === 'closed') return
    this.transport.send(frame, this.codec.isBinary)
  }

  close (reason = 'closed by server'): void {
    if (this.state === 'closed') return
    this.transport.close(1000, reason)
  }

  onClose (listener: (socket: ClientSocket) => void): void { this.closeListeners.push(listener) }

  /** Called once by the endpoint when the transport has closed. */
  markClosed (): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    if (this.unauthenticatedTimer !== null) clearTimeout(this.unauthenticatedTimer)
    this.backlog = null
    for (const listener of this.closeListeners) listener(this)
  }
}

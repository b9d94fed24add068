import type { Codec, Message } from '../protocol/message.js'
import { FrameQueue } from '../protocol/native-codec.js'
import type { Socket, UserSession } from './socket.js'
import { allocateSocketId } from './socket.js'
import { DEFAULT_MAX_SEND_BUFFER, type Transport, type TransportTopics } from './transport.js'
import type { HandshakeData } from '../plugins/auth/authentication.js'
import type { Monitoring } from '../plugins/monitoring/monitoring.js'
import { AUTH_ACTION, CONNECTION_ACTION, ERROR_ACTIONS, TOPIC } from '../protocol/constants.js'
import { flushPublishes, queueSocketFlush } from './turn-output.js'

/** Limits that protect the server from one client. */
export interface SocketLimits {
  /** Bytes queued unsent before the socket is closed as a slow consumer. */
  readonly maxSendBuffer: number
  /** Answers to invalid input allowed per INVALID_WINDOW_MS before the socket is closed. */
  readonly maxInvalidMessages: number
  /** Names the socket may subscribe to per topic. */
  readonly maxSubscriptions: number
}

export const INVALID_WINDOW_MS = 10_000
/** Close code for a client that broke the rules (RFC 6455 policy violation). */
export const POLICY_VIOLATION = 1008

/** Whether `message` answers bad input from the client (it counts against the client). */
export function answersInvalidInput (message: Message): boolean {
  const { topic, action } = message
  if (topic === TOPIC.PARSER) return true
  if (topic === TOPIC.CONNECTION) return action === CONNECTION_ACTION.INVALID_MESSAGE
  if (topic === TOPIC.AUTH) return action === AUTH_ACTION.INVALID_MESSAGE || action === AUTH_ACTION.INVALID_MESSAGE_DATA
  const errors = ERROR_ACTIONS[topic] as { INVALID_MESSAGE_DATA?: number, INVALID_LISTEN_REGEX?: number } | undefined
  return errors !== undefined && (action === errors.INVALID_MESSAGE_DATA || action === errors.INVALID_LISTEN_REGEX)
}

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
  /** Frames waiting to go out as one, for codecs that concatenate (see flushPending). */
  private readonly pending = new FrameQueue()
  /** Frames of a non-concatenating codec sent this turn, not yet written. */
  private queued: Array<Uint8Array | string> = []
  private invalidCount = 0
  private invalidWindowStart = 0

  constructor (
    readonly codec: Codec,
    readonly endpoint: string,
    private readonly transport: Transport,
    readonly handshake: HandshakeData,
    private readonly monitoring: Monitoring,
    private readonly limits: SocketLimits = { maxSendBuffer: DEFAULT_MAX_SEND_BUFFER, maxInvalidMessages: 20, maxSubscriptions: 100_000 },
  ) {}

  get maxSubscriptions (): number { return this.limits.maxSubscriptions }

  /**
   * The adapter's publish/subscribe for this socket's frames, unless its codec concatenates a
   * turn's frames into one (those go through `sendFrame`).
   */
  get topics (): TransportTopics | undefined { return this.codec.concatenates === true ? undefined : this.transport.topics }

  get isClosed (): boolean { return this.state === 'closed' }

  send (message: Message): void {
    if (this.state === 'closed') return
    this.monitoring.onMessageSend(message)
    this.sendFrame(this.codec.encode(message))
    if (answersInvalidInput(message)) this.countInvalid(message)
  }

  sendFrame (frame: Uint8Array | string): void {
    if (this.state === 'closed') return
    // A concatenating codec's frames wait for the end of this turn, so that
    // everything one turn sends to this socket leaves as one frame.
    if (this.codec.concatenates === true) {
      if (this.pending.push(frame as Uint8Array)) queueSocketFlush(this)
      return
    }
    // Other codecs send one frame per message; what one turn sends this socket leaves in one
    // write (a ring drain can hand a socket many messages at once).
    if (this.queued.push(frame) === 1) queueSocketFlush(this)
  }

  /** Sends what this turn queued: the native frame as one, other frames together. */
  flushPending (): void {
    const frame = this.pending.take()
    if (frame !== null && this.state !== 'closed') this.write(frame)
    if (this.queued.length === 0) return
    const frames = this.queued
    this.queued = []
    if (this.state === 'closed') return
    if (frames.length === 1 || this.transport.sendMany === undefined) {
      for (const one of frames) if (!this.isClosed) this.write(one)
      return
    }
    this.checkBackpressure(this.transport.sendMany(frames, this.codec.isBinary))
  }

  private write (frame: Uint8Array | string): void {
    this.checkBackpressure(this.transport.send(frame, this.codec.isBinary))
  }

  /** Closes the socket if it is over its send-buffer limit (published frames are not seen by `write`). */
  checkSendBuffer (): void { if (!this.isClosed) this.checkBackpressure(true) }

  private checkBackpressure (queued: boolean): void {
    // A client that does not read falls behind: close it rather than buffer without end, or drop frames.
    if (!queued || this.transport.bufferedAmount() > this.limits.maxSendBuffer) {
      this.monitoring.onErrorLog('warn', 'SLOW_CONSUMER', `socket ${this.id} on ${this.endpoint} closed: over ${this.limits.maxSendBuffer} bytes unsent`)
      this.close(`slow consumer: over ${this.limits.maxSendBuffer} bytes unsent`, POLICY_VIOLATION)
    }
  }

  /** Each answer to invalid input counts; too many in a window close the socket. */
  private countInvalid (message: Message): void {
    const now = Date.now()
    if (now - this.invalidWindowStart > INVALID_WINDOW_MS) {
      this.invalidWindowStart = now
      this.invalidCount = 0
    }
    this.invalidCount++
    this.monitoring.onErrorLog('warn', 'INVALID_INPUT', `socket ${this.id} on ${this.endpoint}: topic ${message.topic} action ${message.action}`)
    if (this.invalidCount > this.limits.maxInvalidMessages) {
      this.close(`too many invalid messages: over ${this.limits.maxInvalidMessages} in ${INVALID_WINDOW_MS / 1000} s`, POLICY_VIOLATION)
    }
  }

  close (reason = 'closed by server', code = 1000): void {
    if (this.state === 'closed') return
    // What was published and sent before the close goes out first.
    flushPublishes()
    this.flushPending()
    if (this.isClosed) return // the flush found a slow consumer and closed it
    this.transport.close(code, reason)
  }

  onClose (listener: (socket: ClientSocket) => void): void { this.closeListeners.push(listener) }

  /** Called once by the endpoint when the transport has closed. */
  markClosed (): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    if (this.unauthenticatedTimer !== null) clearTimeout(this.unauthenticatedTimer)
    this.backlog = null
    this.pending.clear()
    this.queued = []
    for (const listener of this.closeListeners) listener(this)
  }
}

/**
 * The life of one WebSocket client: CHALLENGE → ACCEPT,
 * AUTH REQUEST → AUTH_SUCCESSFUL / AUTH_UNSUCCESSFUL / TOO_MANY_AUTH_ATTEMPTS,
 * then the message pipeline. Owns the heartbeat check and the
 * unauthenticated-client timeout of its endpoint.
 */
import { AUTH_ACTION, CONNECTION_ACTION, PARSER_ACTION, TOPIC } from '../protocol/constants.js'
import type { Codec, JSONObject, Message } from '../protocol/message.js'
import { frameClock, nowMs } from '../protocol/frame-clock.js'
import { NATIVE_PATH, NATIVE_PROTOCOL_VERSION } from '../protocol/native-codec.js'
import { ClientSocket, POLICY_VIOLATION } from '../connection/client-socket.js'
import type { Transport, TransportSession, WebSocketRoute } from '../connection/transport.js'
import type { HandshakeData, AuthResult, CombinedAuthentication } from '../plugins/auth/authentication.js'
import type { MessageProcessor } from './message-processor.js'
import type { CoreServices, TopicHandler } from '../handlers/services.js'
import type { SocketEndpointOptions } from '../config/schema.js'
import { errorMessage } from '../errors.js'

export interface ConnectionHandlerDeps {
  readonly services: CoreServices
  readonly authentication: CombinedAuthentication
  readonly processor: MessageProcessor
  readonly handlers: ReadonlyMap<number, TopicHandler>
}

const DEFAULT_PATHS: Readonly<Record<string, string>> = { 'ws-binary': '/deepstream', 'ws-json': '/deepstream-json', 'ws-native': NATIVE_PATH }

export class SocketEndpoint implements WebSocketRoute {
  readonly path: string
  /** Whether monitoring records handling and delivery times (the timing is skipped otherwise). */
  private readonly timed: boolean
  readonly maxMessageSize: number
  readonly idleTimeoutSeconds: number
  readonly maxSendBuffer: number
  private readonly sockets = new Set<ClientSocket>()
  private heartbeat: NodeJS.Timeout | null = null

  constructor (
    readonly name: string,
    private readonly codec: Codec,
    private readonly options: SocketEndpointOptions,
    private readonly deps: ConnectionHandlerDeps,
  ) {
    this.path = options.urlPath ?? DEFAULT_PATHS[name] ?? '/deepstream'
    const { monitoring } = deps.services
    this.timed = monitoring.onHandled !== undefined || monitoring.onDelivered !== undefined
    this.maxMessageSize = options.maxMessageSize
    this.maxSendBuffer = options.maxSendBuffer
    // The adapter's idle timeout is a backstop; the heartbeat check below is the rule.
    this.idleTimeoutSeconds = options.heartbeatInterval > 0 ? Math.max(8, Math.ceil((options.heartbeatInterval * 2) / 1000) + 2) : 0
    if (options.heartbeatInterval > 0) {
      this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatInterval)
      this.heartbeat.unref()
    }
  }

  open (transport: Transport, handshake: HandshakeData): TransportSession {
    const socket = new ClientSocket(this.codec, this.name, transport, handshake, this.deps.services.monitoring, this.options)
    this.sockets.add(socket)
    const timeout = this.options.unauthenticatedClientTimeout
    if (timeout !== false && timeout > 0) {
      socket.unauthenticatedTimer = setTimeout(() => {
        socket.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.AUTHENTICATION_TIMEOUT })
        socket.close('authentication timeout')
      }, timeout)
    }
    return {
      onMessage: (frame, isBinary) => this.onFrame(socket, frame, isBinary),
      onClose: () => this.onClose(socket),
      checkSendBuffer: () => socket.checkSendBuffer(),
    }
  }

  private onFrame (socket: ClientSocket, frame: ArrayBuffer | Uint8Array | string, isBinary: boolean): void {
    socket.lastMessageAt = Date.now()
    if (isBinary !== this.codec.isBinary) {
      this.deps.services.monitoring.onErrorLog('warn', 'INVALID_INPUT', `${isBinary ? 'binary' : 'text'} frame on ${this.name} endpoint`)
      socket.close(`${this.name} accepts ${this.codec.isBinary ? 'binary' : 'text'} frames only`, POLICY_VIOLATION)
      return
    }
    let messages: Message[]
    try {
      messages = this.codec.decodeAll !== undefined ? this.codec.decodeAll(frame) : [this.codec.decode(frame)]
    } catch (error) {
      if (socket.state === 'open') {
        socket.send({ topic: TOPIC.PARSER, action: PARSER_ACTION.MESSAGE_PARSE_ERROR, data: JSON.stringify(errorMessage(error)) })
      } else {
        socket.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.INVALID_MESSAGE })
      }
      return
    }
    for (const message of messages) {
      if (socket.isClosed) return // an earlier message of the frame closed it (a refused challenge)
      this.onMessage(socket, message)
    }
  }

  private onMessage (socket: ClientSocket, message: Message): void {
    switch (socket.state) {
      case 'open':
        if (this.timed) this.handleTimed(socket, message)
        else this.deps.processor.process(socket, message)
        return
      case 'awaiting-challenge': this.onChallenge(socket, message); return
      case 'awaiting-auth': this.onAuthRequest(socket, message); return
      default: // authenticating or closed: the client must wait for the auth answer
    }
  }

  /**
   * Runs a message through the handlers, stamping when its frame arrived and
   * timing the synchronous part: only when monitoring records those times.
   */
  private handleTimed (socket: ClientSocket, message: Message): void {
    const monitoring = this.deps.services.monitoring
    const started = nowMs()
    frameClock.receivedAt = started
    try {
      this.deps.processor.process(socket, message)
    } finally {
      frameClock.receivedAt = 0
      monitoring.onHandled?.(message.topic, (nowMs() - started) * 1000)
    }
  }

  private onChallenge (socket: ClientSocket, message: Message): void {
    if (message.topic === TOPIC.CONNECTION && message.action === CONNECTION_ACTION.PING) return
    if (message.topic !== TOPIC.CONNECTION || message.action !== CONNECTION_ACTION.CHALLENGE) {
      socket.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.INVALID_MESSAGE })
      return
    }
    if (this.codec.name === 'ws-native' && !speaksNative(message.protocolVersion)) {
      socket.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.REJECT, data: JSON.stringify(`protocol version ${message.protocolVersion ?? '(none)'} is not served here; this server speaks ${NATIVE_PROTOCOL_VERSION}`) })
      socket.close('unsupported protocol version', POLICY_VIOLATION)
      return
    }
    socket.sdk = { type: message.sdkType, version: message.sdkVersion }
    socket.state = 'awaiting-auth'
    socket.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.ACCEPT })
  }

  private onAuthRequest (socket: ClientSocket, message: Message): void {
    if (message.topic === TOPIC.CONNECTION && message.action === CONNECTION_ACTION.PING) return
    if (message.topic !== TOPIC.AUTH) {
      socket.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.INVALID_MESSAGE })
      return
    }
    let authData: unknown
    try {
      const text = message.data ?? '{}'
      authData = message.action === AUTH_ACTION.REQUEST && typeof text === 'string' ? JSON.parse(text) : null // bytes are no auth data
    } catch {
      authData = null
    }
    if (typeof authData !== 'object' || authData === null || Array.isArray(authData)) {
      socket.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.INVALID_MESSAGE_DATA })
      socket.close('invalid authentication data')
      return
    }
    socket.state = 'authenticating'
    this.deps.authentication.isValidUser(socket.handshake, authData as JSONObject).then(
      (result) => this.onAuthResult(socket, result),
      (error: unknown) => {
        this.deps.services.logger.error('AUTH_ERROR', `authentication failed: ${errorMessage(error)}`)
        this.onAuthResult(socket, { isValid: false, clientData: { error: 'authentication error' } })
      },
    )
  }

  private onAuthResult (socket: ClientSocket, result: AuthResult): void {
    if (socket.isClosed) return
    if (socket.unauthenticatedTimer !== null) {
      clearTimeout(socket.unauthenticatedTimer)
      socket.unauthenticatedTimer = null
    }
    const { monitoring, sessions } = this.deps.services
    monitoring.onLogin(result.isValid, this.name)
    const data = result.clientData === undefined ? undefined : JSON.stringify(result.clientData)
    if (result.isValid) {
      socket.user = { id: result.id ?? 'open', clientData: result.clientData ?? null, serverData: result.serverData ?? null }
      socket.state = 'open'
      // Registered before the client hears of it: once it has, every worker counts it online.
      sessions.add(socket)
      socket.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.AUTH_SUCCESSFUL, data })
      return
    }
    // Every failed attempt is answered, so each login() of the client settles; the last one is
    // then followed by TOO_MANY_AUTH_ATTEMPTS and the close, as deepstream does.
    socket.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.AUTH_UNSUCCESSFUL, data })
    socket.authAttempts++
    if (socket.authAttempts >= this.options.maxAuthAttempts) {
      socket.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.TOO_MANY_AUTH_ATTEMPTS })
      const timer = setTimeout(() => socket.close('too many authentication attempts'), 10)
      socket.onClose(() => clearTimeout(timer))
      return // stays 'authenticating': nothing more is read from this socket
    }
    socket.state = 'awaiting-auth'
  }

  private onClose (socket: ClientSocket): void {
    if (!this.sockets.delete(socket)) return
    const wasOpen = socket.state === 'open'
    socket.markClosed()
    if (!wasOpen) return
    for (const handler of this.deps.handlers.values()) handler.onSocketClosed(socket)
    this.deps.services.sessions.remove(socket)
    if (socket.user !== null) this.deps.authentication.onClientDisconnect(socket.user.id)
  }

  private checkHeartbeats (): void {
    const limit = Date.now() - 2 * this.options.heartbeatInterval
    for (const socket of this.sockets) {
      if (socket.lastMessageAt < limit) socket.close('heartbeat missing')
    }
  }

  /** Closes every client socket and stops the heartbeat. */
  close (): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    this.heartbeat = null
    for (const socket of [...this.sockets]) socket.close('server shutting down')
  }
}

/** A native client must say which protocol it speaks; any 1.x is served (docs/protocol.md, versioning). */
function speaksNative (version: string | undefined): boolean {
  return version !== undefined && version.split('.')[0] === NATIVE_PROTOCOL_VERSION.split('.')[0]
}

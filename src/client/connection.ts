/**
 * One client connection over the native protocol: handshake, login,
 * heartbeat, batching and reconnection. The feature modules (events,
 * records, rpc, presence) send through it and get the messages of their
 * topic; after every login, first or again, each restores its
 * subscriptions before anything queued while offline goes out.
 */
import { CONNECTION_ACTION, AUTH_ACTION, TOPIC } from '../native-free-core/protocol/constants.js'
import type { Message } from '../native-free-core/protocol/message.js'
import { decodeNativeFrame, encodeNative, FrameQueue, NATIVE_PROTOCOL_VERSION } from '../native-free-core/protocol/native-codec.js'
import { ClientError, LoginError } from './errors.js'

export type ConnectionState = 'idle' | 'connecting' | 'authenticating' | 'open' | 'reconnecting' | 'paused' | 'closed'

/** The browser's WebSocket shape, which the `ws` package also offers. */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number, reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  send (data: Uint8Array): void
  close (code?: number, reason?: string): void
}
export type WebSocketFactory = new (url: string) => WebSocketLike

export interface ClientOptions {
  /** A WebSocket class; defaults to the global one, else the `ws` package (Node 20 has no global). */
  WebSocket?: WebSocketFactory
  /** Milliseconds between pings while nothing else is sent (the server closes after twice its own interval). */
  heartbeatInterval?: number
  /** Reconnection: first delay, growth up to maxDelay; maxAttempts 0 means never give up. */
  reconnect?: { initialDelay?: number, maxDelay?: number, maxAttempts?: number } | false
  /** Milliseconds a login waits for the server's answer. */
  loginTimeout?: number
  /** Messages (emits, RPC requests) kept while offline; past it the oldest are dropped and reported. */
  maxOfflineMessages?: number
}

/** What a feature module offers the connection. */
export interface TopicModule {
  readonly topic: number
  handle (message: Message): void
  /** After each successful login: send what the server must know again (subscriptions, providers). */
  restore (): void
  /** The connection dropped: fail or keep what was in flight. */
  onConnectionLost (): void
}

const OPEN = 1
const SDK_TYPE = 'riptide-js'
const SDK_VERSION = '1.0.0'

export class Connection {
  state: ConnectionState = 'idle'
  private socket: WebSocketLike | null = null
  /** The WebSocket class the first login found, for resume(). */
  private socketClass: WebSocketFactory | null = null
  private readonly modules = new Map<number, TopicModule>()
  private readonly stateListeners = new Set<(state: ConnectionState) => void>()
  private authData: Record<string, unknown> | null = null
  private login: { resolve: (data: unknown) => void, reject: (error: Error) => void, timer: ReturnType<typeof setTimeout> } | null = null
  /** Messages sent while not logged in that must still reach the server (emits, writes, requests). */
  private offline: Message[] = []
  private readonly outbox = new FrameQueue()
  private heartbeat: ReturnType<typeof setInterval> | null = null
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private attempts = 0
  private lastReceived = 0
  private nextCorrelation = 1
  /** Where errors that no call waits for go (RiptideClient.onError). */
  reportError: (error: Error) => void = () => {}
  private readonly options: Required<Omit<ClientOptions, 'WebSocket' | 'reconnect'>> & { reconnect: { initialDelay: number, maxDelay: number, maxAttempts: number } | false }

  constructor (readonly url: string, private readonly clientOptions: ClientOptions = {}) {
    const reconnect = clientOptions.reconnect === false
      ? false
      : { initialDelay: 250, maxDelay: 10_000, maxAttempts: 0, ...clientOptions.reconnect }
    // An option given as undefined takes its default (a spread would let it override the default).
    const given = Object.fromEntries(Object.entries(clientOptions).filter(([, value]) => value !== undefined)) as ClientOptions
    this.options = { heartbeatInterval: 20_000, loginTimeout: 15_000, maxOfflineMessages: 10_000, ...given, reconnect }
  }

  register (module: TopicModule): void { this.modules.set(module.topic, module) }

  onStateChange (listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener)
    return () => this.stateListeners.delete(listener)
  }

  correlationId (): string { return (this.nextCorrelation++).toString(36) }

  /** Connects and logs in; resolves with the server's client data. */
  async connect (authData: Record<string, unknown>): Promise<unknown> {
    if (this.state === 'closed') throw new ClientError('CLIENT_CLOSED', 'this client was closed')
    if (this.state !== 'idle') throw new ClientError('ALREADY_CONNECTED', 'login was already called')
    this.authData = authData
    const WebSocketClass = this.clientOptions.WebSocket ?? await defaultWebSocket()
    this.socketClass = WebSocketClass
    return this.logIn(WebSocketClass)
  }

  /**
   * Closes the connection but keeps the client: subscriptions, records and what is sent meanwhile
   * wait for resume() (@deepstream/client's pause). Nothing reconnects until then.
   */
  pause (): void {
    if (this.state === 'idle' || this.state === 'paused' || this.state === 'closed') return
    const wasOpen = this.state === 'open'
    const socket = this.socket
    this.socket = null
    this.stopTimers()
    this.failLogin(new ClientError('PAUSED', 'the client was paused before the login finished'))
    this.setState('paused')
    if (socket !== null) {
      this.flush(socket)
      socket.close(1000, 'client paused')
    }
    this.outbox.clear()
    if (wasOpen) for (const module of this.modules.values()) module.onConnectionLost()
  }

  /** After pause(): connects and logs in again with the same details; resolves once logged in. */
  async resume (): Promise<void> {
    if (this.state !== 'paused' || this.socketClass === null) return
    this.attempts = 0
    await this.logIn(this.socketClass)
  }

  private logIn (WebSocketClass: WebSocketFactory): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // No answer in time (the server unreachable, or silent) ends the client rather than leave it trying unseen.
      const timer = setTimeout(() => this.giveUp(new LoginError('LOGIN_TIMEOUT', `no login answer within ${this.options.loginTimeout} ms`)), this.options.loginTimeout)
      this.login = { resolve, reject, timer }
      this.open(WebSocketClass)
    })
  }

  /**
   * Sends a message once logged in. `queue`: keep it while offline and send
   * it after the next login (otherwise it is dropped, because `restore`
   * sends its equivalent again).
   */
  send (message: Message, queue = true): void {
    if (this.state !== 'open') {
      if (!queue || this.state === 'closed') return
      this.offline.push(message)
      if (this.offline.length > this.options.maxOfflineMessages) {
        this.offline.shift()
        this.reportError(new ClientError('OFFLINE_QUEUE_FULL', `over ${this.options.maxOfflineMessages} messages sent while offline: the oldest was dropped`))
      }
      return
    }
    this.write(message)
  }

  close (): void {
    if (this.state === 'closed') return
    this.setState('closed')
    this.stopTimers()
    this.failLogin(new ClientError('CLIENT_CLOSED', 'the client was closed'))
    this.offline = []
    const socket = this.socket
    this.socket = null
    if (socket !== null) {
      this.flush(socket)
      socket.close(1000, 'client closed')
    }
    for (const module of this.modules.values()) module.onConnectionLost()
  }

  private write (message: Message): void {
    if (this.outbox.push(encodeNative(message))) queueMicrotask(() => { if (this.socket !== null) this.flush(this.socket) })
  }

  /** Everything written this turn leaves as one frame. */
  private flush (socket: WebSocketLike): void {
    const frame = this.outbox.take()
    if (frame !== null && socket.readyState === OPEN) socket.send(frame)
  }

  private open (WebSocketClass: WebSocketFactory): void {
    this.setState(this.attempts === 0 ? 'connecting' : 'reconnecting')
    const socket = new WebSocketClass(this.url)
    this.socket = socket
    socket.binaryType = 'arraybuffer'
    /** Once per socket, by whichever comes first: its close event, or an error (see below). */
    const dropped = (code: number, reason: string): void => {
      if (this.socket !== socket) return
      this.socket = null
      this.onDropped(code, reason, WebSocketClass)
    }
    socket.onopen = () => {
      if (this.socket !== socket) {
        socket.close(1000, 'abandoned')
        return
      }
      this.lastReceived = Date.now()
      // CHALLENGE and the AUTH request go out in one frame, saving a round trip; the
      // server takes them in order (and ignores the request if it rejects the challenge).
      this.write({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: this.url, protocolVersion: NATIVE_PROTOCOL_VERSION, sdkType: SDK_TYPE, sdkVersion: SDK_VERSION })
      this.write({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: JSON.stringify(this.authData ?? {}) })
      this.setState('authenticating')
      this.startHeartbeat()
    }
    socket.onmessage = (event) => { if (this.socket === socket) this.onFrame(event.data) }
    // A close event should follow an error, but Node 22's global WebSocket (undici) reports a refused
    // connection with an error alone: treat the error as the drop, and ignore a close that may follow.
    socket.onerror = () => dropped(1006, 'connection failed')
    socket.onclose = (event) => dropped(event.code, event.reason)
  }

  private onFrame (data: unknown): void {
    this.lastReceived = Date.now()
    let messages: Message[]
    try {
      messages = decodeNativeFrame(data instanceof ArrayBuffer ? new Uint8Array(data) : data as Uint8Array)
    } catch (error) {
      this.socket?.close(1002, `unreadable frame: ${(error as Error).message}`)
      return
    }
    for (const message of messages) this.onMessage(message)
  }

  private onMessage (message: Message): void {
    if (message.topic === TOPIC.CONNECTION) {
      this.onConnectionMessage(message)
      return
    }
    if (message.topic === TOPIC.AUTH) {
      this.onAuthMessage(message)
      return
    }
    this.modules.get(message.topic)?.handle(message)
  }

  private onConnectionMessage (message: Message): void {
    switch (message.action) {
      case CONNECTION_ACTION.ACCEPT: return // the AUTH request went with the challenge
      case CONNECTION_ACTION.PING:
        this.write({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PONG })
        return
      case CONNECTION_ACTION.REJECT:
        this.giveUp(new LoginError('CONNECTION_REJECTED', parseReason(message.data) ?? 'the server rejected the connection'))
        return
      case CONNECTION_ACTION.AUTHENTICATION_TIMEOUT:
        this.failLogin(new LoginError('LOGIN_TIMEOUT', 'the server timed out waiting for login'))
    }
  }

  private onAuthMessage (message: Message): void {
    switch (message.action) {
      case AUTH_ACTION.AUTH_SUCCESSFUL: {
        this.attempts = 0
        this.setState('open')
        for (const module of this.modules.values()) module.restore()
        const queued = this.offline
        this.offline = []
        for (const item of queued) this.write(item)
        const login = this.login
        this.login = null
        if (login !== null) {
          clearTimeout(login.timer)
          login.resolve(parseData(message.data) ?? null)
        }
        return
      }
      case AUTH_ACTION.AUTH_UNSUCCESSFUL:
      case AUTH_ACTION.TOO_MANY_AUTH_ATTEMPTS:
      case AUTH_ACTION.INVALID_MESSAGE_DATA:
        // Wrong credentials do not get better by retrying: stop here.
        this.giveUp(new LoginError('LOGIN_FAILED', 'the server refused the login', parseData(message.data)))
    }
  }

  private onDropped (code: number, reason: string, WebSocketClass: WebSocketFactory): void {
    this.stopTimers()
    this.outbox.clear()
    if (this.state === 'closed') return
    // Only a logged-in connection had messages in flight; before login everything waits offline.
    if (this.state === 'open') for (const module of this.modules.values()) module.onConnectionLost()
    const reconnect = this.options.reconnect
    const attemptsLeft = reconnect !== false && (reconnect.maxAttempts === 0 || this.attempts < reconnect.maxAttempts)
    if (!attemptsLeft) {
      this.giveUp(new ClientError('CONNECTION_LOST', `connection closed (${code}${reason === '' ? '' : `: ${reason}`})`))
      return
    }
    this.attempts++
    const delay = Math.min(reconnect.maxDelay, reconnect.initialDelay * 2 ** (this.attempts - 1))
    this.setState('reconnecting')
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      if (this.state !== 'closed') this.open(WebSocketClass)
    }, delay)
  }

  private giveUp (error: Error): void {
    if (this.login === null) this.reportError(error) // no login call waits: a reconnection failed
    this.failLogin(error)
    this.close()
  }

  private failLogin (error: Error): void {
    const login = this.login
    if (login === null) return
    this.login = null
    clearTimeout(login.timer)
    login.reject(error)
  }

  /**
   * Pings when nothing arrived for a while (the PONG, or anything else,
   * proves the server alive, and the ping keeps the server's own heartbeat
   * check content), and closes a connection the server has gone silent on:
   * reconnection follows.
   */
  private startHeartbeat (): void {
    const interval = this.options.heartbeatInterval
    if (interval <= 0) return
    this.heartbeat = setInterval(() => {
      const socket = this.socket
      if (socket === null) return
      const silent = Date.now() - this.lastReceived
      if (silent > 2 * interval + 1000) socket.close(4000, 'server silent')
      else this.write({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PING })
    }, interval)
  }

  private stopTimers (): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat)
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.heartbeat = null
    this.reconnectTimer = null
  }

  private setState (state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    for (const listener of this.stateListeners) listener(state)
  }
}

async function defaultWebSocket (): Promise<WebSocketFactory> {
  const global = (globalThis as { WebSocket?: WebSocketFactory }).WebSocket
  if (global !== undefined) return global
  const ws = await import('ws')
  return ws.WebSocket as unknown as WebSocketFactory
}

/** Server data as a value: JSON text parsed, bytes as they are. */
export function parseData (data: string | Uint8Array | undefined): unknown {
  if (data === undefined) return undefined
  if (typeof data !== 'string') return data
  try {
    return JSON.parse(data) as unknown
  } catch {
    return data
  }
}

function parseReason (data: string | Uint8Array | undefined): string | undefined {
  const value = parseData(data)
  return value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value)
}

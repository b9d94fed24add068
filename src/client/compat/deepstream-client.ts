/**
 * `DeepstreamClient`: the API of @deepstream/client 7 over riptide's native protocol, so that an
 * app gets the native protocol's batching by changing its import and URL:
 *
 *   import { DeepstreamClient } from 'riptide/client'
 *   const client = new DeepstreamClient('ws://localhost:6020/riptide')
 *
 * So far: the constructor and its reconnection options, `login` in its four forms, connection
 * states and the `connectionStateChanged` and `error` events, `close`, `getUid`, `client.event`
 * (subscribe, unsubscribe, emit, listen, unlisten), `client.rpc` (provide with accept, reject, error
 * and send; make) and `client.presence` (subscribe, unsubscribe, getAll). Records and lists come
 * next; until then they are riptide/client's own (`RiptideClient`).
 *
 * Where it differs from @deepstream/client: the socket opens at `login`, not at construction
 * (before it, the state is AWAITING_AUTHENTICATION, as @deepstream/client's is once its socket is
 * open); a refused login closes the client (a new one must log in again); and `error` listeners
 * get the error's text, its code and the topic's name.
 */
import { Connection, type ClientOptions, type ConnectionState } from '../connection.js'
import { ClientError, LoginError } from '../errors.js'
import { CompatEvents } from './events.js'
import { CompatRpc } from './rpc.js'
import { CompatPresence } from './presence.js'

/** @deepstream/client's connection states (those this client passes through). */
export const CONNECTION_STATE = {
  CLOSED: 'CLOSED',
  AWAITING_CONNECTION: 'AWAITING_CONNECTION',
  AWAITING_AUTHENTICATION: 'AWAITING_AUTHENTICATION',
  AUTHENTICATING: 'AUTHENTICATING',
  OPEN: 'OPEN',
  RECONNECTING: 'RECONNECTING',
} as const
export type DeepstreamConnectionState = typeof CONNECTION_STATE[keyof typeof CONNECTION_STATE]

const STATES: Record<ConnectionState, DeepstreamConnectionState> = {
  idle: CONNECTION_STATE.AWAITING_AUTHENTICATION,
  connecting: CONNECTION_STATE.AWAITING_CONNECTION,
  authenticating: CONNECTION_STATE.AUTHENTICATING,
  open: CONNECTION_STATE.OPEN,
  reconnecting: CONNECTION_STATE.RECONNECTING,
  closed: CONNECTION_STATE.CLOSED,
}

/** The options of @deepstream/client this client follows; the others are accepted and ignored. */
export interface DeepstreamOptions {
  /** Reconnection attempts before giving up (default 5); 0: none. */
  maxReconnectAttempts: number
  /** The first reconnection delay in ms (default 4000), doubling up to maxReconnectInterval. */
  reconnectIntervalIncrement: number
  maxReconnectInterval: number
  heartbeatInterval: number
  /** Riptide's own: a WebSocket class, when there is no global one (see riptide/client). */
  WebSocket: ClientOptions['WebSocket']
  [ignored: string]: unknown
}

export type AuthenticationCallback = (success: boolean, clientData: unknown) => void
type Listener = (...args: unknown[]) => void

export class DeepstreamClient {
  readonly event: CompatEvents
  readonly rpc: CompatRpc
  readonly presence: CompatPresence
  private readonly connection: Connection
  private readonly listeners = new Map<string, Set<Listener>>()

  constructor (url: string, options: Partial<DeepstreamOptions> = {}) {
    const attempts = options.maxReconnectAttempts ?? 5
    const initialDelay = options.reconnectIntervalIncrement ?? 4000
    this.connection = new Connection(url, {
      WebSocket: options.WebSocket,
      heartbeatInterval: options.heartbeatInterval,
      reconnect: attempts <= 0 ? false : { maxAttempts: attempts, initialDelay, maxDelay: Math.max(initialDelay, options.maxReconnectInterval ?? 180_000) },
    })
    const onError = (error: Error): void => this.reportError(error)
    this.connection.reportError = onError
    this.event = new CompatEvents(this.connection, onError)
    this.rpc = new CompatRpc(this.connection, onError)
    this.presence = new CompatPresence(this.connection, onError)
    for (const module of [this.event, this.rpc, this.presence]) this.connection.register(module)
    this.connection.onStateChange((state) => this.fire('connectionStateChanged', STATES[state]))
  }

  login (): Promise<unknown>
  login (callback: AuthenticationCallback): void
  login (details: Record<string, unknown>): Promise<unknown>
  login (details: Record<string, unknown>, callback: AuthenticationCallback): void
  login (detailsOrCallback?: Record<string, unknown> | AuthenticationCallback, maybeCallback?: AuthenticationCallback): Promise<unknown> | undefined {
    const details = typeof detailsOrCallback === 'function' ? {} : detailsOrCallback ?? {}
    const callback = typeof detailsOrCallback === 'function' ? detailsOrCallback : maybeCallback
    // A refused login is answered as @deepstream/client answers it: { reason: <the server's data, or INVALID_AUTHENTICATION_DETAILS> }.
    const loggedIn = this.connection.connect(details).catch((error: unknown) => {
      throw error instanceof LoginError && error.code === 'LOGIN_FAILED' ? { reason: error.data ?? 'INVALID_AUTHENTICATION_DETAILS' } : error
    })
    if (callback === undefined) return loggedIn
    loggedIn.then((data) => callback(true, data), (reason: unknown) => callback(false, reason))
    return undefined
  }

  getConnectionState (): DeepstreamConnectionState { return STATES[this.connection.state] }

  /** A random id whose first characters are the time, as @deepstream/client's. */
  getUid (): string {
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`
  }

  close (): void { this.connection.close() }

  on (event: string, listener: Listener): this {
    let listeners = this.listeners.get(event)
    if (listeners === undefined) this.listeners.set(event, listeners = new Set())
    listeners.add(listener)
    return this
  }

  off (event?: string, listener?: Listener): this {
    if (event === undefined) this.listeners.clear()
    else if (listener === undefined) this.listeners.delete(event)
    else this.listeners.get(event)?.delete(listener)
    return this
  }

  once (event: string, listener: Listener): this {
    const once: Listener = (...args) => {
      this.off(event, once)
      listener(...args)
    }
    return this.on(event, once)
  }

  private fire (event: string, ...args: unknown[]): void {
    for (const listener of [...this.listeners.get(event) ?? []]) listener(...args)
  }

  /** As @deepstream/client: to `error` listeners if there are any, else to the console. */
  private reportError (error: Error): void {
    const code = error instanceof ClientError ? error.code : 'ERROR'
    if ((this.listeners.get('error')?.size ?? 0) === 0) {
      console.error(`riptide client: ${code}: ${error.message}`)
      return
    }
    this.fire('error', error.message, code)
  }
}

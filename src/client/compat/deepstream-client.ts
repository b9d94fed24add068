/**
 * `DeepstreamClient`: the API of @deepstream/client 7 over riptide's native protocol, so that an
 * app gets the native protocol's batching by changing its import and URL:
 *
 *   import { DeepstreamClient } from 'riptide/client'
 *   const client = new DeepstreamClient('ws://localhost:6020/riptide')
 *
 * It covers the constructor's reconnection, heartbeat and offline options, `login` in its four
 * forms, connection states and the `connectionStateChanged` and `error` events, `close`, `getUid`,
 * `client.record` (records, lists, anonymous records, merge strategies, listening, the offline
 * record cache; see records.ts), `client.event`, `client.rpc` and `client.presence`.
 *
 * Where it differs from @deepstream/client (the README lists the records' differences too): the
 * socket opens at `login`, not at construction (before it, the state is AWAITING_AUTHENTICATION, as
 * @deepstream/client's is once its socket is open); a refused login closes the client (a new one
 * must log in again); and `error` listeners get the error's text and its code.
 */
import { Connection, type ClientOptions, type ConnectionState } from '../connection.js'
import { ClientError, LoginError } from '../errors.js'
import { CompatEvents } from './events.js'
import { CompatRpc } from './rpc.js'
import { CompatPresence } from './presence.js'
import { CompatRecords } from './records.js'
import { Emitter } from './emitter.js'
import type { RecordOfflineStore } from './offline-store.js'

/** @deepstream/client's connection states (those this client passes through). */
export const CONNECTION_STATE = {
  CLOSED: 'CLOSED',
  AWAITING_CONNECTION: 'AWAITING_CONNECTION',
  AWAITING_AUTHENTICATION: 'AWAITING_AUTHENTICATION',
  AUTHENTICATING: 'AUTHENTICATING',
  OPEN: 'OPEN',
  RECONNECTING: 'RECONNECTING',
  OFFLINE: 'OFFLINE',
} as const
export type DeepstreamConnectionState = typeof CONNECTION_STATE[keyof typeof CONNECTION_STATE]

const STATES: Record<ConnectionState, DeepstreamConnectionState> = {
  idle: CONNECTION_STATE.AWAITING_AUTHENTICATION,
  connecting: CONNECTION_STATE.AWAITING_CONNECTION,
  authenticating: CONNECTION_STATE.AUTHENTICATING,
  open: CONNECTION_STATE.OPEN,
  reconnecting: CONNECTION_STATE.RECONNECTING,
  paused: CONNECTION_STATE.OFFLINE,
  closed: CONNECTION_STATE.CLOSED,
}

/** The options of @deepstream/client this client follows; the others are accepted and ignored. */
export interface DeepstreamOptions {
  /** Reconnection attempts before giving up (default 5); 0: none. */
  maxReconnectAttempts: number
  /** The first reconnection delay in ms (default 4000), doubling up to maxReconnectInterval. */
  reconnectIntervalIncrement: number
  maxReconnectInterval: number
  /** Milliseconds between pings (default 30000, as @deepstream/client's). */
  heartbeatInterval: number
  /** The offline record cache: records are kept in `storage`, ready at once when cached, and usable offline. */
  offlineEnabled: boolean
  /** With the offline cache: store every change, not only at discard and disconnection. */
  saveUpdatesOffline: boolean
  /** The offline store: default `localStorage` where there is one (a browser), else memory. */
  storage: RecordOfflineStore
  /** The offline store's key for the names of records changed offline. */
  dirtyStorageName: string
  /** Whether record.get() returns copies (default true). */
  recordDeepCopy: boolean
  /** Riptide's own: a WebSocket class, when there is no global one (see riptide/client). */
  WebSocket: ClientOptions['WebSocket']
  [ignored: string]: unknown
}

export type AuthenticationCallback = (success: boolean, clientData: unknown) => void

export class DeepstreamClient extends Emitter {
  readonly event: CompatEvents
  readonly record: CompatRecords
  readonly rpc: CompatRpc
  readonly presence: CompatPresence
  private readonly connection: Connection

  constructor (url: string, options: Partial<DeepstreamOptions> = {}) {
    super()
    const attempts = options.maxReconnectAttempts ?? 5
    const initialDelay = options.reconnectIntervalIncrement ?? 4000
    this.connection = new Connection(url, {
      WebSocket: options.WebSocket,
      heartbeatInterval: options.heartbeatInterval ?? 30_000, // @deepstream/client's default
      reconnect: attempts <= 0 ? false : { maxAttempts: attempts, initialDelay, maxDelay: Math.max(initialDelay, options.maxReconnectInterval ?? 180_000) },
    })
    const onError = (error: Error): void => this.reportError(error)
    this.connection.reportError = onError
    this.event = new CompatEvents(this.connection, onError)
    this.rpc = new CompatRpc(this.connection, onError)
    this.presence = new CompatPresence(this.connection, onError)
    this.record = new CompatRecords(this.connection, onError, {
      offlineEnabled: options.offlineEnabled === true,
      saveUpdatesOffline: options.saveUpdatesOffline === true,
      storage: options.storage,
      dirtyStorageName: options.dirtyStorageName ?? '__ds__dirty_records',
      recordDeepCopy: options.recordDeepCopy !== false,
    })
    for (const module of [this.event, this.record, this.rpc, this.presence]) this.connection.register(module)
    this.connection.onStateChange((state) => this.emit('connectionStateChanged', STATES[state]))
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

  /** Closes the connection and keeps everything (state OFFLINE) until resume(). */
  pause (): void { this.connection.pause() }

  /** Connects and logs in again after pause(); resolves, or calls back with no error, once logged in. */
  resume (): Promise<void>
  resume (callback: (error?: unknown) => void): void
  resume (callback?: (error?: unknown) => void): Promise<void> | undefined {
    const resumed = this.connection.resume()
    if (callback === undefined) return resumed
    resumed.then(() => callback(), (error: unknown) => callback(error))
    return undefined
  }

  /** As @deepstream/client: to `error` listeners if there are any, else to the console. */
  private reportError (error: Error): void {
    const code = error instanceof ClientError ? error.code : 'ERROR'
    if (!this.hasListeners('error')) {
      console.error(`riptide client: ${code}: ${error.message}`)
      return
    }
    this.emit('error', error.message, code)
  }
}

/**
 * riptide's own client, over the native protocol (docs/protocol.md):
 *
 *   import { RiptideClient } from 'riptide/client'
 *   const client = new RiptideClient('ws://localhost:6020/riptide')
 *   await client.login({ username: 'ada', password: '…' })
 *   await client.event.subscribe('chat', (data) => console.log(data))
 *   client.event.emit('chat', { text: 'hello' })
 *
 * It runs in Node (with the `ws` package when there is no global WebSocket)
 * and in browsers. Messages sent in one turn leave as one frame.
 */
import { Connection, type ClientOptions, type ConnectionState } from './connection.js'
import { Events } from './events.js'
import { Records } from './records.js'
import { Rpc } from './rpc.js'
import { Presence } from './presence.js'

export class RiptideClient {
  readonly event: Events
  readonly record: Records
  readonly rpc: Rpc
  readonly presence: Presence
  private readonly connection: Connection
  private readonly errorListeners = new Set<(error: Error) => void>()

  constructor (url: string, options: ClientOptions = {}) {
    this.connection = new Connection(url, options)
    const onError = (error: Error): void => this.reportError(error)
    this.connection.reportError = onError
    this.event = new Events(this.connection, onError)
    this.record = new Records(this.connection, onError)
    this.rpc = new Rpc(this.connection, onError)
    this.presence = new Presence(this.connection, onError)
    for (const module of [this.event, this.record, this.rpc, this.presence]) this.connection.register(module)
  }

  /** Connects and logs in; resolves with the data the server's authentication returned for this user. */
  login (authData: Record<string, unknown> = {}): Promise<unknown> { return this.connection.connect(authData) }

  get state (): ConnectionState { return this.connection.state }

  /** Calls `listener` on every state change: connecting, authenticating, open, reconnecting, paused, closed. */
  onStateChange (listener: (state: ConnectionState) => void): () => void { return this.connection.onStateChange(listener) }

  /** Server errors that no pending call was waiting for (a denied emit, for example). */
  onError (listener: (error: Error) => void): () => void {
    this.errorListeners.add(listener)
    return () => this.errorListeners.delete(listener)
  }

  /** Closes the connection but keeps subscriptions and records until resume(); what is sent meanwhile waits. */
  pause (): void { this.connection.pause() }

  /** Connects and logs in again after pause(). */
  resume (): Promise<void> { return this.connection.resume() }

  /** Closes the connection for good; pending calls reject with CLIENT_CLOSED. */
  close (): void { this.connection.close() }

  private reportError (error: Error): void {
    if (this.errorListeners.size === 0) {
      console.warn(`riptide client: ${error.message}`)
      return
    }
    for (const listener of this.errorListeners) listener(error)
  }
}

export type { ClientOptions, ConnectionState, WebSocketFactory, WebSocketLike } from './connection.js'
export type { EventCallback } from './events.js'
export type { LiveRecord, RecordCallback, RecordSnapshot } from './records.js'
export type { RpcProvider } from './rpc.js'
export type { PresenceCallback } from './presence.js'
export { ClientError, LoginError, VersionConflictError } from './errors.js'
export { DeepstreamClient, CONNECTION_STATE } from './compat/deepstream-client.js'
export type { AuthenticationCallback, DeepstreamConnectionState, DeepstreamOptions } from './compat/deepstream-client.js'
export type { ListenCallback, ListenResponse } from './compat/listener.js'
export { LOCAL_WINS, REMOTE_WINS } from './compat/record-core.js'
export type { MergeStrategy, SubscriptionCallback, WriteAckCallback } from './compat/record-core.js'
export type { CompatAnonymousRecord as AnonymousRecord, CompatList as List, CompatRecord as Record } from './compat/record-views.js'
export { MemoryRecordStore, WebStorageRecordStore } from './compat/offline-store.js'
export type { RecordOfflineStore, WebStorageLike } from './compat/offline-store.js'

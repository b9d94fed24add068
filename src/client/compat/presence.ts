/** `client.presence` of @deepstream/client 7 over the native protocol: subscribe, unsubscribe, getAll. */
import { TOPIC } from '../../native-free-core/protocol/constants.js'
import type { Message } from '../../native-free-core/protocol/message.js'
import type { Connection, TopicModule } from '../connection.js'
import { Presence, type PresenceCallback } from '../presence.js'

type QueryCallback<T> = (error: { reason: string } | null, result?: T) => void
/** The key of subscriptions to everyone, beside user names (which are strings). */
const EVERYONE: unique symbol = Symbol('everyone')

export class CompatPresence implements TopicModule {
  readonly topic = TOPIC.PRESENCE
  private readonly presence: Presence
  /** Each subscription's stop function (resolved once the server has it), by user and callback. */
  private readonly stops = new Map<string | typeof EVERYONE, Map<PresenceCallback, Promise<() => void>>>()

  constructor (connection: Connection, private readonly onError: (error: Error) => void) {
    this.presence = new Presence(connection, onError)
  }

  subscribe (callback: PresenceCallback): void
  subscribe (user: string, callback: PresenceCallback): void
  subscribe (userOrCallback: string | PresenceCallback, maybeCallback?: PresenceCallback): void {
    const key: string | typeof EVERYONE = typeof userOrCallback === 'string' ? userOrCallback : EVERYONE
    const callback = typeof userOrCallback === 'string' ? maybeCallback : userOrCallback
    if (callback === undefined) return
    let byCallback = this.stops.get(key)
    if (byCallback === undefined) this.stops.set(key, byCallback = new Map())
    if (byCallback.has(callback)) return
    const stop = typeof userOrCallback === 'string' ? this.presence.subscribe(userOrCallback, callback) : this.presence.subscribe(callback)
    stop.catch((error: unknown) => this.onError(error as Error))
    byCallback.set(callback, stop)
  }

  /** Without arguments: every subscription; with a callback: that one to everyone; with a user: that user's (or one of them). */
  unsubscribe (userOrCallback?: string | PresenceCallback, maybeCallback?: PresenceCallback): void {
    const keys: Array<string | typeof EVERYONE> = userOrCallback === undefined ? [...this.stops.keys()] : [typeof userOrCallback === 'string' ? userOrCallback : EVERYONE]
    const only = typeof userOrCallback === 'function' ? userOrCallback : maybeCallback
    for (const key of keys) {
      const byCallback = this.stops.get(key)
      if (byCallback === undefined) continue
      for (const [callback, stop] of [...byCallback]) {
        if (only !== undefined && callback !== only) continue
        byCallback.delete(callback)
        void stop.then((run) => run(), () => {})
      }
      if (byCallback.size === 0) this.stops.delete(key)
    }
  }

  getAll (): Promise<string[]>
  getAll (users: string[]): Promise<Record<string, boolean>>
  getAll (callback: QueryCallback<string[]>): void
  getAll (users: string[], callback: QueryCallback<Record<string, boolean>>): void
  getAll (usersOrCallback?: string[] | QueryCallback<string[]>, maybeCallback?: QueryCallback<Record<string, boolean>>): Promise<unknown> | undefined {
    const users = Array.isArray(usersOrCallback) ? usersOrCallback : undefined
    const callback = (typeof usersOrCallback === 'function' ? usersOrCallback : maybeCallback) as QueryCallback<unknown> | undefined
    const answer: Promise<unknown> = users === undefined ? this.presence.getAll() : this.presence.getAll(users)
    if (callback === undefined) return answer
    answer.then((result) => callback(null, result), (error: unknown) => callback({ reason: (error as Error)?.message ?? String(error) }))
    return undefined
  }

  handle (message: Message): void { this.presence.handle(message) }
  restore (): void { this.presence.restore() }
  onConnectionLost (): void { this.presence.onConnectionLost() }
}

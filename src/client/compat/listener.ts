/**
 * Listening as @deepstream/client offers it (`listen(pattern, callback)`), for one topic over the
 * native protocol: the callback hears each name that gets its first subscriber with a response to
 * `accept()` or `reject()`, and `onStop` hears when the last subscriber left.
 */
import type { Message } from '../../native-free-core/protocol/message.js'
import type { Topic } from '../../native-free-core/protocol/constants.js'
import type { Connection } from '../connection.js'
import { ClientError } from '../errors.js'

export interface ListenResponse {
  accept (): void
  reject (reason?: string): void
  onStop (callback: (subscriptionName: string) => void): void
}
export type ListenCallback = (subscriptionName: string, response: ListenResponse) => void

/** The listen actions of one topic (events and records number them alike). */
export interface ListenActionNumbers {
  readonly LISTEN: number
  readonly UNLISTEN: number
  readonly LISTEN_ACCEPT: number
  readonly LISTEN_REJECT: number
  readonly SUBSCRIPTION_FOR_PATTERN_FOUND: number
  readonly SUBSCRIPTION_FOR_PATTERN_REMOVED: number
  readonly INVALID_LISTEN_REGEX: number
}

export class Listener {
  private readonly callbacks = new Map<string, ListenCallback>()
  /** Stop callbacks of the names this client accepted, by pattern, then name. */
  private readonly stops = new Map<string, Map<string, Array<(name: string) => void>>>()
  private readonly handled: ReadonlySet<number>

  constructor (
    private readonly topic: Topic,
    private readonly actions: ListenActionNumbers,
    private readonly connection: Connection,
    private readonly onError: (error: Error) => void,
  ) {
    this.handled = new Set([actions.SUBSCRIPTION_FOR_PATTERN_FOUND, actions.SUBSCRIPTION_FOR_PATTERN_REMOVED, actions.INVALID_LISTEN_REGEX, actions.LISTEN, actions.UNLISTEN])
  }

  listen (pattern: string, callback: ListenCallback): void {
    if (this.callbacks.has(pattern)) {
      this.onError(new ClientError('LISTENER_EXISTS', `already listening to ${pattern}`))
      return
    }
    this.callbacks.set(pattern, callback)
    this.send(this.actions.LISTEN, pattern)
  }

  unlisten (pattern: string): void {
    if (!this.callbacks.delete(pattern)) {
      this.onError(new ClientError('NOT_LISTENING', `not listening to ${pattern}`))
      return
    }
    this.stops.delete(pattern)
    this.send(this.actions.UNLISTEN, pattern)
  }

  /** Whether `message` is one of listening's (this module handles it). */
  handles (message: Message): boolean { return this.handled.has(message.action) }

  handle (message: Message): void {
    const pattern = message.name ?? ''
    const name = message.subscription ?? ''
    const { actions } = this
    if (message.action === actions.SUBSCRIPTION_FOR_PATTERN_FOUND) {
      const callback = this.callbacks.get(pattern)
      if (callback === undefined) return
      const stops: Array<(name: string) => void> = []
      callback(name, {
        accept: () => {
          let byName = this.stops.get(pattern)
          if (byName === undefined) this.stops.set(pattern, byName = new Map())
          byName.set(name, stops)
          this.connection.send({ topic: this.topic, action: actions.LISTEN_ACCEPT, name: pattern, subscription: name }, false)
        },
        reject: () => { this.connection.send({ topic: this.topic, action: actions.LISTEN_REJECT, name: pattern, subscription: name }, false) },
        onStop: (stop) => { stops.push(stop) },
      })
    } else if (message.action === actions.SUBSCRIPTION_FOR_PATTERN_REMOVED) {
      const byName = this.stops.get(pattern)
      const stops = byName?.get(name)
      byName?.delete(name)
      if (byName?.size === 0) this.stops.delete(pattern)
      for (const stop of stops ?? []) stop(name)
    } else if (message.action === actions.INVALID_LISTEN_REGEX) {
      this.onError(new ClientError('INVALID_LISTEN_REGEX', `the server refused the listen pattern ${pattern}`))
    }
    // LISTEN and UNLISTEN come back as acknowledgements: nothing to do.
  }

  /** After a login: the server must hear of every pattern again. */
  restore (): void {
    for (const pattern of this.callbacks.keys()) this.send(this.actions.LISTEN, pattern)
  }

  /** The connection dropped: what this client provided is no longer its to provide. */
  onConnectionLost (): void {
    const stopped = [...this.stops.values()]
    this.stops.clear()
    for (const byName of stopped) for (const [name, stops] of byName) for (const stop of stops) stop(name)
  }

  private send (action: number, pattern: string): void {
    this.connection.send({ topic: this.topic, action, name: pattern, correlationId: this.connection.correlationId() }, false)
  }
}

/** `client.event` of @deepstream/client 7 over the native protocol: subscribe, unsubscribe, emit, listen. */
import { EVENT_ACTION, TOPIC } from '../../native-free-core/protocol/constants.js'
import type { Message } from '../../native-free-core/protocol/message.js'
import type { Connection, TopicModule } from '../connection.js'
import { Events } from '../events.js'
import { Listener, type ListenCallback } from './listener.js'

export type EventData = unknown

export class CompatEvents implements TopicModule {
  readonly topic = TOPIC.EVENT
  private readonly events: Events
  private readonly listener: Listener

  constructor (connection: Connection, private readonly onError: (error: Error) => void) {
    this.events = new Events(connection, onError)
    this.listener = new Listener(TOPIC.EVENT, EVENT_ACTION, connection, onError)
  }

  /** The names this client has subscribed to. */
  eventNames (): string[] { return this.events.names() }

  /** Calls `callback` with every emit of `name`: by other clients, and by this one as it emits. */
  subscribe (name: string, callback: (data: EventData) => void): void {
    this.events.subscribe(name, callback).catch((error: unknown) => this.onError(error as Error))
  }

  /** Removes `callback`, or every callback of `name` when none is given. */
  unsubscribe (name: string, callback?: (data: EventData) => void): void {
    for (const each of callback === undefined ? this.events.callbacksOf(name) : [callback]) this.events.unsubscribe(name, each)
  }

  emit (name: string, data?: EventData): void { this.events.emit(name, data) }

  listen (pattern: string, callback: ListenCallback): void { this.listener.listen(pattern, callback) }

  unlisten (pattern: string): void { this.listener.unlisten(pattern) }

  handle (message: Message): void {
    if (this.listener.handles(message)) this.listener.handle(message)
    else this.events.handle(message)
  }

  restore (): void {
    this.events.restore()
    this.listener.restore()
  }

  onConnectionLost (): void {
    this.events.onConnectionLost()
    this.listener.onConnectionLost()
  }
}

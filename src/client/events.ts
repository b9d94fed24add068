/** Events: subscribe, emit (JSON values or bytes), with subscriptions restored after a reconnect. */
import { EVENT_ACTION, isErrorMessage, TOPIC } from '../native-free-core/protocol/constants.js'
import type { Message } from '../native-free-core/protocol/message.js'
import type { Connection, TopicModule } from './connection.js'
import { parseData } from './connection.js'
import { AckTracker, encodeData, serverError } from './acks.js'
import { ClientError } from './errors.js'
import { CallbacksByName } from './callbacks.js'

export type EventCallback = (data: unknown, name: string) => void

export class Events implements TopicModule {
  readonly topic = TOPIC.EVENT
  private readonly callbacks = new CallbacksByName<EventCallback>()
  private readonly acks: AckTracker

  constructor (private readonly connection: Connection, private readonly onError: (error: Error) => void) {
    this.acks = new AckTracker(connection)
  }

  /** Calls `callback` for every emit of `name` by others; resolves, with the unsubscribe function, once the server has the subscription. */
  async subscribe (name: string, callback: EventCallback): Promise<() => void> {
    const unsubscribe = (): void => this.unsubscribe(name, callback)
    await this.callbacks.add(name, callback, () => this.acks.request({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: [name] }, name))
    return unsubscribe
  }

  /** Removes `callback`; the server hears of it when it was the name's last. */
  unsubscribe (name: string, callback: EventCallback): void {
    if (!this.callbacks.remove(name, callback)) return
    this.connection.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.UNSUBSCRIBE, names: [name], correlationId: this.connection.correlationId() }, false)
  }

  /**
   * Sends `data` (any JSON value, or a Uint8Array sent as opaque bytes) to
   * every subscriber of `name`. This client's own subscribers are called
   * here and now, as @deepstream/client does; the server does not echo.
   */
  emit (name: string, data?: unknown): void {
    this.connection.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, data: encodeData(data) })
    for (const callback of this.callbacks.get(name)) callback(data, name)
  }

  handle (message: Message): void {
    if (message.action === EVENT_ACTION.EMIT && message.name !== undefined) {
      const callbacks = this.callbacks.get(message.name)
      if (callbacks.length === 0) return
      const data = parseData(message.data)
      for (const callback of callbacks) callback(data, message.name)
      return
    }
    if (this.acks.settle(message)) return
    if (isErrorMessage(message)) this.onError(serverError(message))
  }

  /** The names this client has subscribers of. */
  names (): string[] { return this.callbacks.names() }

  /** The callbacks subscribed to `name`. */
  callbacksOf (name: string): readonly EventCallback[] { return this.callbacks.get(name) }

  restore (): void {
    const names = this.callbacks.names()
    if (names.length > 0) this.acks.resend({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names })
  }

  onConnectionLost (): void {
    if (this.connection.state === 'closed') this.acks.rejectAll(new ClientError('CLIENT_CLOSED', 'the client was closed'))
  }
}

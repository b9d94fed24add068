/** Presence: who is online, and notices when users log in or out everywhere. */
import { isErrorMessage, PRESENCE_ACTION, TOPIC } from '../native-free-core/protocol/constants.js'
import type { Message } from '../native-free-core/protocol/message.js'
import type { Connection, TopicModule } from './connection.js'
import { parseData } from './connection.js'
import { AckTracker, deferred, serverError, type Deferred } from './acks.js'
import { ClientError } from './errors.js'
import { CallbacksByName } from './callbacks.js'

export type PresenceCallback = (user: string, online: boolean) => void

/** The subscription key for "every user". */
const EVERYONE = '\u0000all'

export class Presence implements TopicModule {
  readonly topic = TOPIC.PRESENCE
  private readonly callbacks = new CallbacksByName<PresenceCallback>()
  /** QUERY_ALL answers carry no correlation id: they come back in order. */
  private readonly everyoneQueries: Array<Deferred<string[]>> = []
  private readonly queries = new Map<string, { users: string[], answer: Deferred<Record<string, boolean>> }>()
  private readonly acks: AckTracker

  constructor (private readonly connection: Connection, private readonly onError: (error: Error) => void) {
    this.acks = new AckTracker(connection)
  }

  /** Every user online except this client's own. */
  getAll (): Promise<string[]>
  /** Whether each of `users` is online. */
  getAll (users: string[]): Promise<Record<string, boolean>>
  getAll (users?: string[]): Promise<string[] | Record<string, boolean>> {
    if (users === undefined) {
      const answer = deferred<string[]>()
      this.everyoneQueries.push(answer)
      this.connection.send({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY_ALL }, false)
      return answer.promise
    }
    const correlationId = this.connection.correlationId()
    const answer = deferred<Record<string, boolean>>()
    this.queries.set(correlationId, { users, answer })
    this.connection.send({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY, names: users, correlationId }, false)
    return answer.promise
  }

  /** Calls `callback` when `user` (or, without a user, anyone) logs in or out; resolves with the stop function once active. */
  async subscribe (userOrCallback: string | PresenceCallback, maybeCallback?: PresenceCallback): Promise<() => void> {
    const user = typeof userOrCallback === 'string' ? userOrCallback : EVERYONE
    const callback = typeof userOrCallback === 'string' ? maybeCallback : userOrCallback
    if (callback === undefined) throw new ClientError('INVALID_ARGUMENT', 'presence.subscribe needs a callback')
    await this.callbacks.add(user, callback, () => this.acks.request(subscribeMessage(user, true), user === EVERYONE ? undefined : user))
    return () => {
      if (!this.callbacks.remove(user, callback)) return
      this.connection.send({ ...subscribeMessage(user, false), correlationId: this.connection.correlationId() }, false)
    }
  }

  handle (message: Message): void {
    switch (message.action) {
      case PRESENCE_ACTION.PRESENCE_JOIN: this.notify(message.name ?? '', message.name ?? '', true); return
      case PRESENCE_ACTION.PRESENCE_LEAVE: this.notify(message.name ?? '', message.name ?? '', false); return
      case PRESENCE_ACTION.PRESENCE_JOIN_ALL: this.notify(EVERYONE, message.name ?? '', true); return
      case PRESENCE_ACTION.PRESENCE_LEAVE_ALL: this.notify(EVERYONE, message.name ?? '', false); return
      case PRESENCE_ACTION.QUERY_ALL_RESPONSE: this.everyoneQueries.shift()?.resolve(message.names ?? []); return
      case PRESENCE_ACTION.QUERY_RESPONSE: {
        const query = this.queries.get(message.correlationId ?? '')
        if (query === undefined) return
        this.queries.delete(message.correlationId ?? '')
        query.answer.resolve(parseData(message.data) as Record<string, boolean>)
        return
      }
    }
    if (this.acks.settle(message)) return
    if (isErrorMessage(message)) this.onError(serverError(message))
  }

  private notify (key: string, user: string, online: boolean): void {
    for (const callback of this.callbacks.get(key)) callback(user, online)
  }

  restore (): void {
    const users = this.callbacks.names().filter((user) => user !== EVERYONE)
    if (users.length > 0) this.acks.resend({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.SUBSCRIBE, names: users })
    if (this.callbacks.has(EVERYONE)) this.acks.resend({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.SUBSCRIBE_ALL })
    // Queries were not queued offline: ask the ones still open again.
    for (let i = 0; i < this.everyoneQueries.length; i++) this.connection.send({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY_ALL }, false)
    for (const [correlationId, query] of this.queries) {
      this.connection.send({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY, names: query.users, correlationId }, false)
    }
  }

  onConnectionLost (): void {
    if (this.connection.state !== 'closed') return
    const closed = new ClientError('CLIENT_CLOSED', 'the client was closed')
    for (const answer of this.everyoneQueries.splice(0)) answer.reject(closed)
    for (const query of this.queries.values()) query.answer.reject(closed)
    this.queries.clear()
    this.acks.rejectAll(closed)
  }
}

function subscribeMessage (user: string, subscribe: boolean): Message {
  if (user === EVERYONE) return { topic: TOPIC.PRESENCE, action: subscribe ? PRESENCE_ACTION.SUBSCRIBE_ALL : PRESENCE_ACTION.UNSUBSCRIBE_ALL }
  return { topic: TOPIC.PRESENCE, action: subscribe ? PRESENCE_ACTION.SUBSCRIBE : PRESENCE_ACTION.UNSUBSCRIBE, names: [user] }
}

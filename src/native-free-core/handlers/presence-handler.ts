/**
 * Presence: who is online, cluster-wide, with join and
 * leave notices to per-user and to "all" subscribers. Anonymous users of
 * open auth (id `open`) are not counted; deepstream 7 counted them by mistake.
 */
import { PRESENCE_ACTION, TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'
import type { Socket } from '../connection/socket.js'
import type { CoreServices, TopicHandler } from './services.js'
import type { SubscriptionRegistry } from '../plugins/subscription-registry/subscription-registry.js'
import type { StateRegistry } from '../plugins/state-registry/state-registry.js'
import { sendInvalid, subscribeBulk, unsubscribeBulk } from './bulk-subscriptions.js'
import { ANONYMOUS_USER } from '../plugins/auth/open-authentication.js'

/** The subscription name that stands for "every user". */
const ALL = '\u0000all'

export class PresenceHandler implements TopicHandler {
  private readonly subscriptions: SubscriptionRegistry
  private readonly online: StateRegistry

  constructor (services: CoreServices) {
    this.subscriptions = services.subscriptions.getSubscriptionRegistry('presence')
    this.online = services.states.getStateRegistry('online-users')
    services.sessions.onLogin(({ userId }) => { if (userId !== ANONYMOUS_USER) this.online.add(userId) })
    services.sessions.onLogout(({ userId }) => { if (userId !== ANONYMOUS_USER) this.online.remove(userId) })
    this.online.onAdd((user) => this.notify(user, PRESENCE_ACTION.PRESENCE_JOIN, PRESENCE_ACTION.PRESENCE_JOIN_ALL))
    this.online.onRemove((user) => this.notify(user, PRESENCE_ACTION.PRESENCE_LEAVE, PRESENCE_ACTION.PRESENCE_LEAVE_ALL))
  }

  private notify (user: string, action: number, allAction: number): void {
    this.subscriptions.sendToLocalSubscribers(user, { topic: TOPIC.PRESENCE, action, name: user }, null)
    this.subscriptions.sendToLocalSubscribers(ALL, { topic: TOPIC.PRESENCE, action: allAction, name: user }, null)
  }

  /**
   * Another worker's login or logout is in the shared table before this worker hears of it. A
   * subscription or a query first fires what this worker owes for its names, so a subscriber never
   * gets a change from before it subscribed, nor one older than a query's answer.
   */
  private settle (names: readonly string[] | undefined): void {
    if (this.online.settle === undefined) return
    if (names === undefined) this.online.settle()
    else for (const user of names) this.online.settle(user)
  }

  handle (socket: Socket, message: Message): void {
    switch (message.action) {
      case PRESENCE_ACTION.SUBSCRIBE:
        this.settle(message.names ?? [])
        subscribeBulk(this.subscriptions, socket, message)
        return
      case PRESENCE_ACTION.UNSUBSCRIBE: unsubscribeBulk(this.subscriptions, socket, message); return
      case PRESENCE_ACTION.SUBSCRIBE_ALL:
        this.settle(undefined)
        this.subscriptions.subscribe(ALL, socket)
        socket.send({ topic: TOPIC.PRESENCE, action: message.action, correlationId: message.correlationId, isAck: true })
        return
      case PRESENCE_ACTION.UNSUBSCRIBE_ALL:
        this.subscriptions.unsubscribe(ALL, socket)
        socket.send({ topic: TOPIC.PRESENCE, action: message.action, correlationId: message.correlationId, isAck: true })
        return
      case PRESENCE_ACTION.QUERY_ALL: {
        const self = socket.user?.id
        this.settle(undefined)
        socket.send({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY_ALL_RESPONSE, names: this.online.getAll().filter((u) => u !== self) })
        return
      }
      case PRESENCE_ACTION.QUERY: {
        const result: Record<string, boolean> = {}
        this.settle(message.names ?? [])
        for (const user of message.names ?? []) result[user] = this.online.has(user)
        socket.send({ topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY_RESPONSE, correlationId: message.correlationId, data: JSON.stringify(result) })
        return
      }
      default:
        sendInvalid(socket, message, `unknown presence action ${message.action}`)
    }
  }

  onSocketClosed (socket: Socket): void { this.subscriptions.removeSocket(socket) }

  async close (): Promise<void> {}
}

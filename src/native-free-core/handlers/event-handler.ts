import { EVENT_ACTION, TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'
import type { Socket } from '../connection/socket.js'
import type { CoreServices, TopicHandler } from './services.js'
import type { SubscriptionRegistry } from '../plugins/subscription-registry/subscription-registry.js'
import { subscriptionChannel } from '../plugins/subscription-registry/subscription-registry.js'
import { ListenRegistry } from './listen-registry.js'
import { sendInvalid, subscribeBulk, unsubscribeBulk } from './bulk-subscriptions.js'
import { frameClock, nowMs } from '../protocol/frame-clock.js'

/** Events: subscribe, unsubscribe, emit to everyone but the sender, listening. */
export class EventHandler implements TopicHandler {
  private readonly subscriptions: SubscriptionRegistry
  private readonly listeners: ListenRegistry

  constructor (private readonly services: CoreServices) {
    this.subscriptions = services.subscriptions.getSubscriptionRegistry('event')
    this.listeners = new ListenRegistry(TOPIC.EVENT, EVENT_ACTION, services, this.subscriptions, () => {})
    this.subscriptions.setListener(this.listeners)
    services.clusterNode.subscribe(subscriptionChannel('event'), (message, _from, receivedAt, frames) => {
      if (message.name === undefined) return
      this.subscriptions.sendToLocalSubscribers(message.name, message, null, frames)
      if (receivedAt > 0) this.services.monitoring.onDelivered?.(TOPIC.EVENT, (nowMs() - receivedAt) * 1000)
    })
  }

  handle (socket: Socket, message: Message): void {
    switch (message.action) {
      case EVENT_ACTION.EMIT:
        if (typeof message.name !== 'string' || message.name === '') {
          sendInvalid(socket, message, 'emit needs an event name')
          return
        }
        if (this.subscriptions.publish(message.name, { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: message.name, data: message.data }, socket) > 0 && frameClock.receivedAt > 0) {
          this.services.monitoring.onDelivered?.(TOPIC.EVENT, (nowMs() - frameClock.receivedAt) * 1000)
        }
        return
      case EVENT_ACTION.SUBSCRIBE: subscribeBulk(this.subscriptions, socket, message); return
      case EVENT_ACTION.UNSUBSCRIBE: unsubscribeBulk(this.subscriptions, socket, message); return
      case EVENT_ACTION.LISTEN:
      case EVENT_ACTION.UNLISTEN:
      case EVENT_ACTION.LISTEN_ACCEPT:
      case EVENT_ACTION.LISTEN_REJECT:
        this.listeners.handle(socket, message)
        return
      default:
        sendInvalid(socket, message, `unknown event action ${message.action}`)
    }
  }

  onSocketClosed (socket: Socket): void {
    this.subscriptions.removeSocket(socket)
    this.listeners.onSocketClosed(socket)
  }

  async close (): Promise<void> { this.listeners.close() }
}

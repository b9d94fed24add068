import type { Message } from '../protocol/message.js'
import type { Socket } from '../connection/socket.js'
import type { SubscriptionRegistry } from '../plugins/subscription-registry/subscription-registry.js'
import { ERROR_ACTIONS } from '../protocol/constants.js'

/**
 * SUBSCRIBE-style messages with `names` and a `correlationId`: subscribe each
 * name, report names already subscribed, ack once with `{topic, action,
 * correlationId}`.
 */
export function subscribeBulk (registry: SubscriptionRegistry, socket: Socket, message: Message, onSubscribed?: (name: string) => void): void {
  const errors = ERROR_ACTIONS[message.topic]
  for (const name of message.names ?? []) {
    if (!withinLimit(registry, socket, message, name)) continue
    if (registry.subscribe(name, socket)) {
      onSubscribed?.(name)
    } else if (errors !== undefined) {
      socket.send({ topic: message.topic, action: errors.MULTIPLE_SUBSCRIPTIONS, originalAction: message.action, name })
    }
  }
  sendBulkAck(socket, message)
}

export function unsubscribeBulk (registry: SubscriptionRegistry, socket: Socket, message: Message): void {
  for (const name of message.names ?? []) registry.unsubscribe(name, socket)
  sendBulkAck(socket, message)
}

export function sendBulkAck (socket: Socket, message: Message): void {
  socket.send({ topic: message.topic, action: message.action, correlationId: message.correlationId, isAck: true })
}

/** `INVALID_MESSAGE_DATA` for a message whose fields do not fit its action. */
export function sendInvalid (socket: Socket, message: Message, reason: string): void {
  const errors = ERROR_ACTIONS[message.topic]
  if (errors === undefined) return
  socket.send({
    topic: message.topic,
    action: errors.INVALID_MESSAGE_DATA,
    originalAction: message.action,
    name: message.name,
    correlationId: message.correlationId,
    isWriteAck: message.isWriteAck,
    data: JSON.stringify(reason),
    isError: true,
  })
}

/**
 * Whether the socket may subscribe to one more name here. When not, the
 * name gets INVALID_MESSAGE_DATA, which counts against the socket: a client
 * that keeps flooding is closed (docs/security.md).
 */
export function withinLimit (registry: SubscriptionRegistry, socket: Socket, message: Message, name: string): boolean {
  const limit = socket.maxSubscriptions
  if (limit === undefined || registry.isSubscribed(name, socket) || registry.countFor(socket) < limit) return true
  sendInvalid(socket, { ...message, name }, `subscription limit of ${limit} names reached`)
  return false
}

/**
 * The pipeline after login: PING → PONG, permission check
 * once per name, then the topic handler. A socket's messages are handled in
 * arrival order even when a permission check is asynchronous.
 */
import { CONNECTION_ACTION, PARSER_ACTION, TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'
import type { ClientSocket } from '../connection/client-socket.js'
import type { Socket } from '../connection/socket.js'
import type { CoreServices, TopicHandler } from '../handlers/services.js'
import { ruleTypeFor } from '../plugins/permission/rule-types.js'
import { checkPermission, sendDenied, type Verdict } from '../handlers/permission-check.js'

export class MessageProcessor {
  constructor (
    private readonly services: CoreServices,
    private readonly handlers: ReadonlyMap<number, TopicHandler>,
  ) {}

  process (socket: ClientSocket, message: Message): void {
    if (socket.backlog !== null) {
      socket.backlog.push(message)
      return
    }
    const pending = this.step(socket, message)
    if (pending !== undefined) {
      socket.backlog = []
      void pending.then(() => this.drain(socket))
    }
  }

  /** Replays what arrived while a step waited, stopping again at the next wait. */
  private drain (socket: ClientSocket): void {
    while (socket.backlog !== null && socket.backlog.length > 0) {
      const pending = this.step(socket, socket.backlog.shift() as Message)
      if (pending !== undefined) {
        void pending.then(() => this.drain(socket))
        return
      }
    }
    socket.backlog = null
  }

  /** Handles one message; returns a promise only when it had to wait. */
  step (socket: Socket, message: Message): Promise<void> | undefined {
    this.services.monitoring.onMessageReceived(message, socket.endpoint)
    if (message.topic === TOPIC.CONNECTION && message.action === CONNECTION_ACTION.PING) {
      socket.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PONG })
      return undefined
    }
    const handler = this.handlers.get(message.topic)
    if (handler === undefined) {
      socket.send({ topic: TOPIC.PARSER, action: PARSER_ACTION.UNKNOWN_TOPIC, data: JSON.stringify(message.topic) })
      return undefined
    }
    if (ruleTypeFor(message.topic, message.action) === undefined) {
      handler.handle(socket, message)
      return undefined
    }
    const names = message.names !== undefined && message.names.length > 0 ? message.names : [message.name ?? '']
    const verdicts = names.map((name) => checkPermission(this.services, socket, message, message.action, name))
    if (verdicts.every((v) => typeof v === 'string')) {
      this.forward(handler, socket, message, names, verdicts as Verdict[])
      return undefined
    }
    return Promise.all(verdicts).then((settled) => {
      if (!socket.isClosed) this.forward(handler, socket, message, names, settled)
    })
  }

  private forward (handler: TopicHandler, socket: Socket, message: Message, names: string[], verdicts: Verdict[]): void {
    const allowed: string[] = []
    for (let i = 0; i < names.length; i++) {
      if (verdicts[i] === 'allowed') allowed.push(names[i])
      else sendDenied(socket, message, names[i], verdicts[i])
    }
    if (allowed.length === 0) return
    if (message.names === undefined || message.names.length === 0 || allowed.length === names.length) {
      handler.handle(socket, message)
    } else {
      handler.handle(socket, { ...message, names: allowed })
    }
  }
}

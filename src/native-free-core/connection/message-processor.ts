/**
 * The pipeline after login: PING → PONG, permission check
 * once per name, then the topic handler. A socket's messages are handled in
 * arrival order even when a permission check is asynchronous.
 */
import { CONNECTION_ACTION, ERROR_ACTIONS, PARSER_ACTION, TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'
import type { ClientSocket } from './client-socket.js'
import type { Socket } from './socket.js'
import type { CoreServices, TopicHandler } from '../handlers/services.js'
import { ruleTypeFor } from '../plugins/permission/valve/rules-map.js'
import { errorMessage } from '../errors.js'

export type Verdict = 'allowed' | 'denied' | 'error'

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

/** Runs the permission plugin for one name; never throws. */
export function checkPermission (services: CoreServices, socket: Socket, message: Message, action: number, name: string): Verdict | Promise<Verdict> {
  if (socket.trusted === true) return 'allowed'
  const user = socket.user
  if (user === null) return 'denied'
  try {
    const result = services.permission.canPerformAction({ user, topic: message.topic, action, name, message })
    if (typeof result === 'boolean') return result ? 'allowed' : 'denied'
    return result.then((ok) => (ok ? 'allowed' : 'denied'), (error: unknown) => permissionFailed(services, name, error))
  } catch (error) {
    return permissionFailed(services, name, error)
  }
}

function permissionFailed (services: CoreServices, name: string, error: unknown): Verdict {
  services.logger.warn('PERMISSION_ERROR', `permission check for "${name}" failed: ${errorMessage(error)}`)
  return 'error'
}

/** MESSAGE_DENIED or MESSAGE_PERMISSION_ERROR for one name, with what the client needs to route it. */
export function sendDenied (socket: Socket, message: Message, name: string, verdict: Verdict): void {
  const actions = ERROR_ACTIONS[message.topic]
  if (actions === undefined) return
  socket.send({
    topic: message.topic,
    action: verdict === 'error' ? actions.MESSAGE_PERMISSION_ERROR : actions.MESSAGE_DENIED,
    originalAction: message.action,
    name: name === '' ? undefined : name, // name-less actions (presence QUERY_ALL, SUBSCRIBE_ALL) are denied without one, as in deepstream
    correlationId: message.correlationId,
    isWriteAck: message.isWriteAck,
    isError: true,
  })
}

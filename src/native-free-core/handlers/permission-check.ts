/**
 * The permission check of one name, in one place for the message pipeline (which checks every
 * action that rule-types.ts lists) and the handlers (which check what depends on state the
 * pipeline cannot see: the create step of an upsert, a record that does not exist yet).
 */
import { ERROR_ACTIONS } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'
import type { Socket } from '../connection/socket.js'
import type { CoreServices } from './services.js'
import { errorMessage } from '../errors.js'

export type Verdict = 'allowed' | 'denied' | 'error'

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

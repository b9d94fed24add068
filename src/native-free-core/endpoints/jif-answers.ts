/**
 * The answer a JIF item gets from the message that settles it, shaped exactly as deepstream 7
 * shapes it (checked by test/differential/jif.test.ts): numeric `errorEvent`s, the denied `action`,
 * deepstream's error texts, and the special shapes of a denied emit and a request timeout.
 */
import { actionName, EVENT_ACTION, isErrorMessage, PRESENCE_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../protocol/constants.js'
import type { JSONValue, Message } from '../protocol/message.js'
import { jsonText } from '../protocol/binary-data.js'

export type JifAnswer = { readonly success: boolean } & Readonly<Record<string, JSONValue | undefined>>

const TOPIC_KEYS: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(TOPIC).map(([name, value]) => [value, name.toLowerCase()]))

const DENIED_ACTION: Readonly<Record<number, number>> = {
  [TOPIC.RECORD]: RECORD_ACTION.MESSAGE_DENIED, [TOPIC.EVENT]: EVENT_ACTION.MESSAGE_DENIED,
  [TOPIC.RPC]: RPC_ACTION.MESSAGE_DENIED, [TOPIC.PRESENCE]: PRESENCE_ACTION.MESSAGE_DENIED,
}

/** A denied emit is answered by the HTTP endpoint itself, not from a message. */
export const EMIT_DENIED: JifAnswer = {
  success: false, error: 'Message denied. Action \'emit\' is not permitted.', errorEvent: 'MESSAGE_DENIED', errorAction: 'emit', errorTopic: 'event',
}

export const TIMED_OUT: JifAnswer = {
  success: false, error: 'Request exceeded timeout before a response was received.', errorTopic: 'connection', errorEvent: 'HTTP_REQUEST_TIMEOUT',
}

function parsed (message: Message): JSONValue | undefined {
  if (message.data === undefined) return undefined
  const text = jsonText(message.data)
  try { return JSON.parse(text) as JSONValue } catch { return text }
}

/** The answer that `reply` settles its item with, or null when the item waits on (an RPC accept, an ack). */
export function answerFor (reply: Message): JifAnswer | null {
  if (isErrorMessage(reply)) return errorAnswer(reply)
  switch (reply.topic) {
    case TOPIC.RPC:
      if (reply.action === RPC_ACTION.RESPONSE) return { data: parsed(reply), success: true }
      if (reply.action === RPC_ACTION.REQUEST_ERROR) return { errorTopic: 'rpc', error: parsed(reply), success: false }
      return null
    case TOPIC.RECORD:
      switch (reply.action) {
        case RECORD_ACTION.READ_RESPONSE: return { version: reply.version, data: parsed(reply), success: true }
        case RECORD_ACTION.HEAD_RESPONSE: return { version: reply.version, success: true }
        case RECORD_ACTION.WRITE_ACKNOWLEDGEMENT:
        case RECORD_ACTION.DELETE:
        case RECORD_ACTION.DELETE_SUCCESS: return { success: true }
        case RECORD_ACTION.NOTIFY: return reply.isAck === true ? { success: true } : null
        default: return null
      }
    case TOPIC.PRESENCE:
      if (reply.action === PRESENCE_ACTION.QUERY_ALL_RESPONSE) return { users: reply.names ?? [], success: true }
      if (reply.action === PRESENCE_ACTION.QUERY_RESPONSE) return { users: parsed(reply), success: true }
      return null
    default:
      return null
  }
}

function errorAnswer (reply: Message): JifAnswer {
  const base = { errorTopic: TOPIC_KEYS[reply.topic], errorEvent: reply.action, success: false }
  const { topic, action, name } = reply
  if (action === DENIED_ACTION[topic]) {
    const denied = reply.originalAction ?? 0
    return { ...base, action: denied, error: `Message denied. Action "${actionName(topic, denied)}" is not permitted.` }
  }
  if (topic === TOPIC.RECORD) {
    switch (action) {
      case RECORD_ACTION.VERSION_EXISTS:
        return { ...base, error: `Record update failed. Version ${reply.version} exists for record "${name}".`, currentVersion: reply.version, currentData: parsed(reply) }
      case RECORD_ACTION.INVALID_VERSION:
        return { ...base, error: `Record update failed. Version ${reply.version} is not valid for record "${name}".`, currentVersion: reply.version, currentData: parsed(reply) }
      case RECORD_ACTION.RECORD_NOT_FOUND:
        return { ...base, error: `Record read failed. Record "${name}" could not be found.` }
    }
  }
  if (topic === TOPIC.RPC && action === RPC_ACTION.NO_RPC_PROVIDER) return { ...base, error: `No provider was available to handle the RPC "${name}".` }
  if (topic === TOPIC.RPC && action === RPC_ACTION.RESPONSE_TIMEOUT) return { ...base, error: 'The RPC response timeout was exceeded by the provider.' }
  // deepstream names any other error action from the RPC table, whatever its topic.
  return { ...base, error: `An error occurred: ${actionName(TOPIC.RPC, action)}.`, errorParams: name }
}

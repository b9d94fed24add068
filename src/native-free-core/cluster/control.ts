/**
 * Control messages: what riptide's own nodes tell each other besides client messages (state
 * notices, nodes joining and leaving, run-time timeouts, questions about a user's sessions, the
 * permission reload). Each kind is a table of the `Control` union in schemas/cluster.fbs, written
 * by `controlMessage` and read by `readControl`, here and nowhere else.
 *
 * A control message travels as a client `Message` of topic CLUSTER whose data holds the
 * FlatBuffer, so every cluster node plugin carries it (deepstream's carry bytes as base64). The
 * query layer (queries.ts) adds its correlationId and isError to the same Message.
 */
import * as flatbuffers from 'flatbuffers'
import { Control as Kind, ControlMessage, Count, Done, NodeNotice, StateNotice, TimeoutChange, UserSessions } from '../protocol/generated/cluster_generated.js'
import { TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'

export type Control =
  | { readonly kind: 'state-notice', readonly registry: string, readonly name: string }
  | { readonly kind: 'node-notice', readonly node: string, readonly alive: boolean }
  | { readonly kind: 'timeout-change', readonly key: string, readonly milliseconds: number }
  | { readonly kind: 'user-sessions', readonly user: string, readonly closeReason?: string }
  | { readonly kind: 'count', readonly value: number }
  | { readonly kind: 'done' }

/** The action of every control message on topic CLUSTER. */
export const CONTROL_ACTION = 0

const builder = new flatbuffers.Builder(256)

/** One writer: the control as the message that carries it. */
export function controlMessage (control: Control): Message {
  builder.clear()
  let kind: Kind
  let body: flatbuffers.Offset
  switch (control.kind) {
    case 'state-notice':
      kind = Kind.StateNotice
      body = StateNotice.createStateNotice(builder, builder.createString(control.registry), builder.createString(control.name))
      break
    case 'node-notice':
      kind = Kind.NodeNotice
      body = NodeNotice.createNodeNotice(builder, builder.createString(control.node), control.alive)
      break
    case 'timeout-change':
      kind = Kind.TimeoutChange
      body = TimeoutChange.createTimeoutChange(builder, builder.createString(control.key), control.milliseconds)
      break
    case 'user-sessions':
      kind = Kind.UserSessions
      body = UserSessions.createUserSessions(builder, builder.createString(control.user), control.closeReason === undefined ? 0 : builder.createString(control.closeReason))
      break
    case 'count':
      kind = Kind.Count
      body = Count.createCount(builder, control.value)
      break
    case 'done':
      kind = Kind.Done
      body = Done.createDone(builder)
      break
  }
  builder.finish(ControlMessage.createControlMessage(builder, kind, body))
  return { topic: TOPIC.CLUSTER, action: CONTROL_ACTION, data: builder.asUint8Array().slice() }
}

/** One reader: the control a message carries, or null when it carries none (or a damaged one). */
export function readControl (message: Message): Control | null {
  if (message.topic !== TOPIC.CLUSTER || !(message.data instanceof Uint8Array)) return null
  try {
    const root = ControlMessage.getRootAsControlMessage(new flatbuffers.ByteBuffer(message.data))
    switch (root.bodyType()) {
      case Kind.StateNotice: {
        const notice = root.body(new StateNotice()) as StateNotice
        return { kind: 'state-notice', registry: notice.registry() ?? '', name: notice.name() ?? '' }
      }
      case Kind.NodeNotice: {
        const notice = root.body(new NodeNotice()) as NodeNotice
        return { kind: 'node-notice', node: notice.node() ?? '', alive: notice.alive() }
      }
      case Kind.TimeoutChange: {
        const change = root.body(new TimeoutChange()) as TimeoutChange
        return { kind: 'timeout-change', key: change.key() ?? '', milliseconds: change.milliseconds() }
      }
      case Kind.UserSessions: {
        const question = root.body(new UserSessions()) as UserSessions
        const closeReason = question.closeReason()
        return closeReason === null ? { kind: 'user-sessions', user: question.user() ?? '' } : { kind: 'user-sessions', user: question.user() ?? '', closeReason }
      }
      case Kind.Count: return { kind: 'count', value: (root.body(new Count()) as Count).value() }
      case Kind.Done: return { kind: 'done' }
      default: return null
    }
  } catch {
    return null
  }
}

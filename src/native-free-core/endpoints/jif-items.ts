/**
 * JIF items: which ones are valid (deepstream 7's JSON schema: no extra keys, record write data an
 * object or array, versions integers from -1), the reason deepstream gives for an invalid one, and
 * the protocol message each valid item becomes.
 */
import { z } from 'zod'
import { jsonValueSchema } from '../protocol/json-schema.js'
import { EVENT_ACTION, PRESENCE_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'

const json = jsonValueSchema
const name = z.string().min(1)
const version = z.number().int().min(-1).optional()
const container = z.union([z.record(z.string(), json), z.array(json)])

const jifItem = z.union([
  z.object({ topic: z.literal('event'), action: z.literal('emit'), eventName: name, data: json.optional() }).strict(),
  z.object({ topic: z.literal('rpc'), action: z.literal('make'), rpcName: name, data: json.optional() }).strict(),
  z.object({ topic: z.literal('record'), action: z.enum(['read', 'head', 'delete']), recordName: name }).strict(),
  z.object({ topic: z.literal('record'), action: z.literal('write'), recordName: name, data: container, version }).strict(),
  z.object({ topic: z.literal('record'), action: z.literal('write'), recordName: name, path: z.string(), data: json, version }).strict(),
  z.object({ topic: z.literal('record'), action: z.literal('notify'), recordNames: z.array(z.string()) }).strict(),
  z.object({ topic: z.literal('list'), action: z.enum(['read', 'delete']), listName: name }).strict(),
  z.object({ topic: z.literal('list'), action: z.literal('write'), listName: name, data: z.array(z.string()), version }).strict(),
  z.object({ topic: z.literal('presence'), action: z.literal('query'), names: z.array(z.string()).optional() }).strict(),
])

export type JifItem = z.infer<typeof jifItem>

/** The item, or the reason it is refused (null when deepstream gives none). */
export function parseJifItem (raw: unknown): { item: JifItem } | { reason: string | null } {
  const parsed = jifItem.safeParse(raw)
  return parsed.success ? { item: parsed.data } : { reason: refusalReason(raw) }
}

/**
 * deepstream validates items with a JSON schema whose first alternative is the event emit, and
 * reports that alternative's first failure: extra keys and wrong constants give no reason; a wrong
 * type, an empty name or a missing key do.
 */
function refusalReason (raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'property \'\' should be object'
  const item = raw as Record<string, unknown>
  if (Object.keys(item).some((key) => !['topic', 'action', 'eventName', 'data'].includes(key))) return null
  if ('topic' in item && item.topic !== 'event') return null
  if ('action' in item && item.action !== 'emit') return null
  if ('eventName' in item) {
    if (typeof item.eventName !== 'string') return 'property \'.eventName\' should be string'
    if (item.eventName.length < 1) return 'property \'.eventName\' should NOT be shorter than 1 characters'
  }
  const missing = ['topic', 'action', 'eventName'].find((key) => !(key in item))
  return missing === undefined ? null : `property '${missing}' is required for topic '${String(item.topic)}'`
}

/** The protocol message an item becomes; an emit needs no answer beyond its permission check. */
export function jifMessage (item: JifItem, correlationId: string): { message: Message, immediate: boolean } {
  const data = 'data' in item && item.data !== undefined ? JSON.stringify(item.data) : undefined
  switch (item.topic) {
    case 'event':
      return { message: { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: item.eventName, data }, immediate: true }
    case 'rpc':
      return { message: { topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name: item.rpcName, correlationId, data }, immediate: false }
    case 'presence':
      return {
        message: item.names === undefined
          ? { topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY_ALL }
          : { topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY, names: item.names, correlationId },
        immediate: false,
      }
    default:
      return { message: recordMessage(item, data, correlationId), immediate: false }
  }
}

function recordMessage (item: Extract<JifItem, { topic: 'record' | 'list' }>, data: string | undefined, correlationId: string): Message {
  if (item.action === 'notify') return { topic: TOPIC.RECORD, action: RECORD_ACTION.NOTIFY, names: item.recordNames, correlationId }
  const recordName = 'recordName' in item ? item.recordName : item.listName
  switch (item.action) {
    case 'read': return { topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: recordName }
    case 'head': return { topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name: recordName }
    case 'delete': return { topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: recordName }
    default: {
      const path = 'path' in item ? item.path : undefined
      // As deepstream (`version || -1`): no version, or 0, means "the next one".
      const version = ('version' in item ? item.version : undefined) || -1
      return {
        topic: TOPIC.RECORD,
        action: path === undefined ? RECORD_ACTION.CREATEANDUPDATE : RECORD_ACTION.CREATEANDPATCH,
        name: recordName, path, data, version, isWriteAck: true, correlationId,
      }
    }
  }
}


/**
 * JIF items: which ones are valid (deepstream 7's JSON schema: no extra keys, record write data an
 * object or array, versions integers from -1), the reason deepstream gives for an invalid one, and
 * the protocol message each valid item becomes.
 */
import { EVENT_ACTION, PRESENCE_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../protocol/constants.js'
import type { JSONObject, JSONValue, Message } from '../protocol/message.js'

export type JifItem =
  | { topic: 'event', action: 'emit', eventName: string, data?: JSONValue }
  | { topic: 'rpc', action: 'make', rpcName: string, data?: JSONValue }
  | { topic: 'record', action: 'read' | 'head' | 'delete', recordName: string }
  | { topic: 'record', action: 'write', recordName: string, data: JSONObject | JSONValue[], version?: number }
  | { topic: 'record', action: 'write', recordName: string, path: string, data: JSONValue, version?: number }
  | { topic: 'record', action: 'notify', recordNames: string[] }
  | { topic: 'list', action: 'read' | 'delete', listName: string }
  | { topic: 'list', action: 'write', listName: string, data: string[], version?: number }
  | { topic: 'presence', action: 'query', names?: string[] }

type Fields = Record<string, unknown>
/** A check of one field's value; `undefined` means the key is absent. */
type Check = (value: unknown) => boolean

const name: Check = (v) => typeof v === 'string' && v.length > 0
const anyString: Check = (v) => typeof v === 'string'
const strings: Check = (v) => Array.isArray(v) && v.every((s) => typeof s === 'string')
const json: Check = (v) => v !== undefined
const container: Check = (v) => typeof v === 'object' && v !== null
const optional = (check: Check): Check => (v) => v === undefined || check(v)
const version: Check = optional((v) => Number.isSafeInteger(v) && (v as number) >= -1)

/**
 * The item shapes, in deepstream's order: each names its topic and actions and every key it
 * allows, with the key's check. Values come from JSON.parse, so any present value is JSON.
 */
const SHAPES = [
  shape('event', ['emit'], { eventName: name, data: optional(json) }),
  shape('rpc', ['make'], { rpcName: name, data: optional(json) }),
  shape('record', ['read', 'head', 'delete'], { recordName: name }),
  shape('record', ['write'], { recordName: name, data: container, version }),
  shape('record', ['write'], { recordName: name, path: anyString, data: json, version }),
  shape('record', ['notify'], { recordNames: strings }),
  shape('list', ['read', 'delete'], { listName: name }),
  shape('list', ['write'], { listName: name, data: strings, version }),
  shape('presence', ['query'], { names: optional(strings) }),
]

/** A shape with its fields listed once, so that checking an item makes no arrays of them. */
function shape (topic: string, actions: readonly string[], fields: Readonly<Record<string, Check>>): {
  topic: string, actions: readonly string[], fields: Readonly<Record<string, Check>>, checks: ReadonlyArray<readonly [string, Check]>
} {
  return { topic, actions, fields, checks: Object.entries(fields) }
}

function fits (item: Fields, shape: typeof SHAPES[number]): boolean {
  if (item.topic !== shape.topic || !shape.actions.includes(item.action as string)) return false
  for (const key in item) {
    if (key !== 'topic' && key !== 'action' && !Object.hasOwn(shape.fields, key)) return false
  }
  for (const [key, check] of shape.checks) {
    if (!check(Object.hasOwn(item, key) ? item[key] : undefined)) return false
  }
  return true
}

/** The item, or the reason it is refused (null when deepstream gives none). `raw` comes from JSON.parse. */
export function parseJifItem (raw: unknown): { item: JifItem } | { reason: string | null } {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const item = raw as Fields
    if (SHAPES.some((shape) => fits(item, shape))) return { item: item as JifItem }
  }
  return { reason: refusalReason(raw) }
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


/**
 * The ws-json codec: one JSON text frame per message with
 * numeric topic and action and `data` as a JSON string. The stock client in
 * jsonTransportMode also sends `parsedData`; we take `data` and drop the rest.
 */
import type { Codec, Message } from './message.js'
import { TOPIC } from './constants.js'
import { ProtocolError } from '../errors.js'
import { withJsonText } from './binary-data.js'

const STRING_KEYS = ['name', 'correlationId', 'path', 'subscription', 'pattern', 'url', 'protocolVersion',
  'sdkVersion', 'sdkType', 'requestorName'] as const
const BOOL_KEYS = ['isAck', 'isError', 'isWriteAck'] as const
const NUMBER_KEYS = ['version', 'originalAction'] as const

function text (frame: ArrayBuffer | Uint8Array | string): string {
  if (typeof frame === 'string') return frame
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

/** Builds a Message from untrusted JSON, keeping only well-typed fields. */
export function messageFromJSON (raw: unknown): Message {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ProtocolError('message is not an object')
  const src = raw as Record<string, unknown>
  if (!Number.isInteger(src.topic) || !Number.isInteger(src.action)) throw new ProtocolError('topic and action must be integers')
  const message: Record<string, unknown> = { topic: src.topic, action: src.action }
  for (const key of STRING_KEYS) if (typeof src[key] === 'string') message[key] = src[key]
  for (const key of BOOL_KEYS) if (typeof src[key] === 'boolean') message[key] = src[key]
  for (const key of NUMBER_KEYS) if (Number.isInteger(src[key])) message[key] = src[key]
  if (typeof src.data === 'string') message.data = src.data
  else if (src.parsedData !== undefined) message.data = JSON.stringify(src.parsedData)
  if (Array.isArray(src.names)) {
    if (!src.names.every((n) => typeof n === 'string')) throw new ProtocolError('names must be strings')
    message.names = src.names
  }
  if (typeof src.versions === 'object' && src.versions !== null) message.versions = src.versions
  if (typeof src.requestorData === 'string') message.requestorData = src.requestorData
  else if (typeof src.requestorData === 'object' && src.requestorData !== null) message.requestorData = JSON.stringify(src.requestorData)
  return message as unknown as Message
}

/** Topics whose data deepstream's ws-json endpoint sends parsed, as `parsedData`; events and RPC keep `data` as text. */
const PARSED_TOPICS: ReadonlySet<number> = new Set([TOPIC.AUTH, TOPIC.RECORD, TOPIC.PRESENCE])

/** The JSON in `text`, or `otherwise` when it is not JSON. */
function parsedOr (text: string, otherwise: unknown): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return otherwise
  }
}

/** A message as deepstream's ws-json endpoint writes it (test/differential/json.test.ts compares them). */
function toJSON (message: Message): string {
  const textual: Record<string, unknown> = { ...withJsonText(message) }
  // deepstream writes an RPC requestor's clientData as an object here.
  if (typeof textual.requestorData === 'string') textual.requestorData = parsedOr(textual.requestorData, textual.requestorData)
  if (typeof textual.data === 'string' && PARSED_TOPICS.has(message.topic)) {
    const parsedData = parsedOr(textual.data, undefined)
    if (parsedData !== undefined) {
      delete textual.data
      textual.parsedData = parsedData
    }
  }
  return JSON.stringify(textual)
}

export const jsonCodec: Codec = {
  index: 1,
  name: 'ws-json',
  isBinary: false,
  encode: toJSON,
  decode (frame) {
    let raw: unknown
    try {
      raw = JSON.parse(text(frame))
    } catch {
      throw new ProtocolError('frame is not valid JSON')
    }
    return messageFromJSON(raw)
  },
}

/**
 * Opaque binary payloads (events and RPC from the native protocol) for the
 * protocols that carry only JSON text: they see the bytes as a JSON string
 * holding their base64, which any client can decode.
 */
import type { Message } from './message.js'

/** `data` as JSON text: bytes become a base64 JSON string. */
export function jsonText (data: string | Uint8Array): string {
  if (typeof data === 'string') return data
  return JSON.stringify(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'))
}

/** `message` with JSON-text data, for codecs without a binary data field (the same object when nothing changes). */
export function withJsonText (message: Message): Message {
  const { data } = message
  return data === undefined || typeof data === 'string' ? message : { ...message, data: jsonText(data) }
}

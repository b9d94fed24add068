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

/**
 * A copy of `bytes` that may outlive them, from Node's buffer pool: `slice` would allocate a backing
 * store for each copy (1.1 to 1.5 µs for a 60 to 300-byte frame here, against 0.15 to 0.3).
 */
export function copyBytes (bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafe(bytes.byteLength)
  copy.set(bytes)
  return copy
}

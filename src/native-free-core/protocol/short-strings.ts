/**
 * Short ASCII strings from message bytes (names, correlation ids, actions' small fields), for the
 * decoders of the native and protobuf protocols. Names recur on every message of a topic, so the
 * strings seen lately are kept by a hash of their bytes and handed out again; a new one is made in
 * one call, flat. (One built a character at a time is a rope, which every Map lookup by it would
 * first have to flatten; a Buffer or TextDecoder per string costs more than the copy for these.)
 */
const MAX_LENGTH = 64
const SLOTS = 1024
const recent: Array<string | undefined> = new Array<string | undefined>(SLOTS)

/** The text of bytes [start, end) if they are at most 64 ASCII bytes; undefined otherwise (decode them another way). */
export function shortAscii (bytes: Uint8Array, start: number, end: number): string | undefined {
  const length = end - start
  if (length > MAX_LENGTH) return undefined
  let hash = length
  for (let i = start; i < end; i++) {
    const byte = bytes[i]
    if (byte >= 0x80) return undefined
    hash = Math.imul(hash ^ byte, 0x01000193)
  }
  const slot = (hash >>> 0) & (SLOTS - 1)
  const cached = recent[slot]
  if (cached !== undefined && cached.length === length && sameAscii(cached, bytes, start)) return cached
  const text = String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[])
  recent[slot] = text
  return text
}

function sameAscii (text: string, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false
  return true
}

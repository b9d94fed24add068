/**
 * Short ASCII strings from message bytes (names, correlation ids, actions' small fields), for the
 * decoders of the native and protobuf protocols. Names recur on every message of a topic, so the
 * strings seen lately are kept by a hash of their bytes and handed out again; a new one is made in
 * one call, flat. (One built a character at a time is a rope, which every Map lookup by it would
 * first have to flatten; a Buffer or TextDecoder per string costs more than the copy for these.)
 *
 * The call is Buffer's latin1 slice, which reads any Uint8Array (the bytes are ASCII, so latin1
 * is ASCII): 190 to 280 ns for 6 to 40 characters against 240 to 480 for String.fromCharCode
 * applied to the bytes, which V8 first copies into an argument list (Node 20, 22 and 24). Names
 * miss the cache when there are many more than its slots (10,000 topics).
 */
const MAX_LENGTH = 64
const SLOTS = 1024
const recent: Array<string | undefined> = new Array<string | undefined>(SLOTS)
/** Absent in browsers (riptide/client decodes with this module too): the bytes are applied there. */
const latin1Slice = typeof Buffer === 'function'
  ? (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice
  : undefined

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
  const text = latin1Slice !== undefined
    ? latin1Slice.call(bytes, start, end)
    : String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[])
  recent[slot] = text
  return text
}

function sameAscii (text: string, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false
  return true
}

/**
 * The ws-native codec: riptide's own protocol (schemas/wire.fbs,
 * docs/protocol.md). A frame is one or more size-prefixed FlatBuffers, each
 * holding one Message:
 *
 *   frame   = message+
 *   message = uint32le(byteLength) Message-buffer   (byteLength is a multiple of 4)
 *
 * Encoding gives one size-prefixed buffer, so frames are built by
 * concatenation and fan-out encodes a message once for all native sockets.
 * Decoding checks every offset as it reads (wire-reader.ts), and a frame is
 * taken or refused whole. Nothing here needs Node: the client uses it in browsers too.
 */
import * as flatbuffers from 'flatbuffers'
import type { Codec, Message } from './message.js'
import { buildMessage } from './wire-message.js'
import { readMessage } from './wire-reader.js'
import { ProtocolError } from '../errors.js'

/** The protocol version this code speaks; clients send it in CHALLENGE's protocolVersion. */
export const NATIVE_PROTOCOL_VERSION = '1.0'
/** Default path of the ws-native endpoint. */
export const NATIVE_PATH = '/riptide'
/** Messages allowed in one frame; a frame with more is refused. */
export const MAX_MESSAGES_PER_FRAME = 4096

const SIZE_PREFIX = 4
const builder = new flatbuffers.Builder(1024)

/** One message as a size-prefixed buffer that owns its bytes. */
export function encodeNative (message: Message): Uint8Array {
  builder.clear()
  builder.forceDefaults(true)
  builder.finishSizePrefixed(buildMessage(builder, message))
  return builder.asUint8Array().slice()
}

/** Joins encoded messages (or frames) into one frame. */
export function joinFrames (parts: readonly Uint8Array[], byteLength: number): Uint8Array {
  if (parts.length === 1) return parts[0]
  const frame = new Uint8Array(byteLength)
  let at = 0
  for (const part of parts) {
    frame.set(part, at)
    at += part.byteLength
  }
  return frame
}

/**
 * Encoded messages gathered during one turn, to leave as one frame. The
 * owner schedules the flush when push says the queue was empty.
 */
export class FrameQueue {
  private first: Uint8Array | null = null
  /** Only when there is more than one: most turns send a socket a single message. */
  private more: Uint8Array[] | null = null
  private bytes = 0

  /** Adds a message; true when it is the first since the last take. */
  push (message: Uint8Array): boolean {
    this.bytes += message.byteLength
    if (this.first === null) {
      this.first = message
      return true
    }
    if (this.more === null) this.more = [this.first]
    this.more.push(message)
    return false
  }

  /** Everything pushed since the last take, as one frame; null when nothing was. */
  take (): Uint8Array | null {
    const { first, more } = this
    if (first === null) return null
    const frame = more === null ? first : joinFrames(more, this.bytes)
    this.clear()
    return frame
  }

  clear (): void {
    this.first = null
    this.more = null
    this.bytes = 0
  }
}

function bytesOf (frame: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof frame === 'string') throw new ProtocolError('text frame on a binary endpoint')
  return frame instanceof Uint8Array ? frame : new Uint8Array(frame)
}

/** Every message of a frame, in order; throws a ProtocolError if any of them is malformed. */
export function decodeNativeFrame (frame: ArrayBuffer | Uint8Array | string): Message[] {
  const bytes = bytesOf(frame)
  if (bytes.byteLength === 0) throw new ProtocolError('empty frame')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // Any bad message throws before the caller sees one: the frame is refused whole.
  const messages: Message[] = []
  for (let at = 0; at < bytes.byteLength;) {
    if (at + SIZE_PREFIX > bytes.byteLength) throw new ProtocolError('frame ends inside a size prefix')
    const length = view.getUint32(at, true)
    const start = at + SIZE_PREFIX
    if (length < 8 || start + length > bytes.byteLength) throw new ProtocolError(`message of ${length} bytes does not fit the frame`)
    if (messages.length === MAX_MESSAGES_PER_FRAME) throw new ProtocolError(`over ${MAX_MESSAGES_PER_FRAME} messages in one frame`)
    messages.push(readMessage(bytes, view, start, start + length))
    at = start + length
  }
  return messages
}

export const nativeCodec: Codec = {
  index: 2,
  name: 'ws-native',
  isBinary: true,
  concatenates: true,
  encode: encodeNative,
  decode (frame) {
    const messages = decodeNativeFrame(frame)
    if (messages.length !== 1) throw new ProtocolError(`expected one message, found ${messages.length}`)
    return messages[0]
  },
  decodeAll: decodeNativeFrame,
}

import type { Topic } from './constants.js'

/**
 * One protocol message, the same object for every codec. A field that is
 * `undefined` is absent on the wire; any other value (0, false, '') is sent.
 * `data` holds JSON text, or opaque bytes (a Uint8Array) that only the
 * native protocol carries as such: the deepstream codecs send bytes as a
 * JSON string of their base64 (see binary-data.ts). Decoding JSON text is the
 * handler's choice.
 */
export interface Message {
  topic: Topic
  action: number
  name?: string
  names?: string[]
  data?: string | Uint8Array
  correlationId?: string
  isAck?: boolean
  isError?: boolean
  isWriteAck?: boolean
  path?: string
  version?: number
  versions?: Record<string, number>
  subscription?: string
  pattern?: string
  originalAction?: number
  url?: string
  protocolVersion?: string
  sdkVersion?: string
  sdkType?: string
  requestorName?: string
  requestorData?: string
}

export type JSONValue = string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue }
export type JSONObject = { [key: string]: JSONValue }

/** A codec turns messages into frames for one kind of socket and back. */
export interface Codec {
  /** Small dense integer: fan-out caches one frame per codec index. */
  readonly index: number
  readonly name: string
  readonly isBinary: boolean
  encode (message: Message): Uint8Array | string
  /** Throws a ProtocolError when the frame cannot be read. */
  decode (frame: ArrayBuffer | Uint8Array | string): Message
  /**
   * True when encoded messages may be joined into one frame by
   * concatenation (the native protocol); sockets then send what one event
   * loop turn produced as one frame.
   */
  readonly concatenates?: boolean
  /** Every message of a frame, for codecs whose frames carry several. */
  decodeAll? (frame: ArrayBuffer | Uint8Array | string): Message[]
}

export const CODEC_COUNT = 3

/**
 * The ws-binary codec: deepstream 7's delimited protobuf framing, written by
 * hand so that field presence is deepstream's exactly: a field is on
 * the wire when its property is defined and not null, even when it holds the
 * proto3 default (`version: 0`, `isError: false`, `path: ''`).
 *
 *   frame = varint(len) Message{ topic:enum = 2, message:bytes = 3 }
 *   message = the topic's own message (field tables below)
 */
import { TOPIC } from './constants.js'
import type { Codec, Message } from './message.js'
import { ProtocolError } from '../errors.js'
import { jsonText } from './binary-data.js'
import { shortAscii } from './short-strings.js'

type FieldType = 'varint' | 'bool' | 'string' | 'strings' | 'versions'
type Key = keyof Message
type Field = readonly [number, Key, FieldType]

const COMMON: readonly Field[] = [[1, 'action', 'varint'], [2, 'data', 'string']]

/** Field tables per topic, from @deepstream/protobuf's .proto files. */
const FIELDS: Readonly<Record<number, readonly Field[]>> = {
  [TOPIC.PARSER]: [...COMMON, [9, 'originalAction', 'varint']],
  [TOPIC.CONNECTION]: [...COMMON, [3, 'isError', 'bool'], [4, 'isAck', 'bool'], [5, 'url', 'string'],
    [6, 'protocolVersion', 'string'], [7, 'sdkVersion', 'string'], [8, 'sdkType', 'string']],
  [TOPIC.AUTH]: [...COMMON, [3, 'isError', 'bool'], [4, 'isAck', 'bool']],
  [TOPIC.EVENT]: [...COMMON, [3, 'correlationId', 'string'], [4, 'isError', 'bool'], [5, 'isAck', 'bool'],
    [6, 'name', 'string'], [7, 'names', 'strings'], [8, 'subscription', 'string'], [11, 'originalAction', 'varint']],
  [TOPIC.RECORD]: [...COMMON, [3, 'correlationId', 'string'], [4, 'isError', 'bool'], [5, 'isAck', 'bool'],
    [6, 'name', 'string'], [7, 'names', 'strings'], [8, 'pattern', 'string'], [9, 'subscription', 'string'],
    [10, 'originalAction', 'varint'], [11, 'isWriteAck', 'bool'], [12, 'path', 'string'],
    [13, 'version', 'varint'], [14, 'versions', 'versions']],
  [TOPIC.RPC]: [...COMMON, [3, 'correlationId', 'string'], [4, 'isError', 'bool'], [5, 'isAck', 'bool'],
    [6, 'names', 'strings'], [7, 'name', 'string'], [9, 'originalAction', 'varint'],
    [10, 'requestorName', 'string'], [11, 'requestorData', 'string']],
  [TOPIC.PRESENCE]: [[1, 'action', 'varint'], [3, 'originalAction', 'varint'], [4, 'data', 'string'],
    [5, 'correlationId', 'string'], [6, 'isError', 'bool'], [7, 'isAck', 'bool'], [8, 'name', 'string'],
    [9, 'names', 'strings']],
  [TOPIC.MONITORING]: [...COMMON, [3, 'correlationId', 'string'], [4, 'isError', 'bool'], [5, 'isAck', 'bool']],
}

/** field number -> field, per topic, for decoding. */
const BY_NUMBER: ReadonlyMap<number, ReadonlyMap<number, Field>> = new Map(
  Object.entries(FIELDS).map(([topic, fields]) => [Number(topic), new Map(fields.map((f) => [f[0], f]))]),
)

const WIRE_VARINT = 0
const WIRE_LEN = 2

class Writer {
  buf = Buffer.allocUnsafe(4096)
  pos = 0

  reset (): void { this.pos = 0 }

  ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  varint (value: number): void {
    this.ensure(10)
    if (value < 0) {
      // int32 negatives are sign-extended to 64 bits: always ten bytes.
      let lo = value >>> 0
      let hi = 0xffffffff
      for (let i = 0; i < 9; i++) {
        this.buf[this.pos++] = (lo & 0x7f) | 0x80
        lo = (lo >>> 7) | ((hi & 0x7f) << 25)
        hi >>>= 7
      }
      this.buf[this.pos++] = 1
      return
    }
    while (value > 0x7f) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80
      value = Math.floor(value / 128)
    }
    this.buf[this.pos++] = value
  }

  tag (field: number, wire: number): void { this.varint((field << 3) | wire) }

  string (field: number, value: string): void {
    const len = Buffer.byteLength(value)
    this.tag(field, WIRE_LEN)
    this.varint(len)
    this.ensure(len)
    this.pos += this.buf.write(value, this.pos)
  }
}

const body = new Writer()
const entry = new Writer()

function varintSize (value: number): number {
  let size = 1
  while (value > 0x7f) { value = Math.floor(value / 128); size++ }
  return size
}

function writeField (w: Writer, field: Field, value: unknown): void {
  const [num, , type] = field
  switch (type) {
    case 'varint':
      w.tag(num, WIRE_VARINT)
      w.varint(Math.trunc(Number(value)) | 0)
      return
    case 'bool':
      w.tag(num, WIRE_VARINT)
      w.varint(value === true ? 1 : 0)
      return
    case 'string':
      w.string(num, String(value))
      return
    case 'strings':
      for (const item of value as string[]) w.string(num, String(item))
      return
    case 'versions':
      for (const [key, version] of Object.entries(value as Record<string, number>)) {
        entry.reset()
        entry.string(1, key)
        entry.tag(2, WIRE_VARINT)
        entry.varint(version | 0)
        w.tag(num, WIRE_LEN)
        w.varint(entry.pos)
        w.ensure(entry.pos)
        entry.buf.copy(w.buf, w.pos, 0, entry.pos)
        w.pos += entry.pos
      }
  }
}

/** A slot per message property (topic included), so one bit mask can say which a message has. */
const SLOTS: ReadonlyMap<string, number> = new Map(
  ['topic', ...new Set(Object.values(FIELDS).flat().map((field) => field[1] as string))].map((key, slot) => [key, slot]),
)
const TOPIC_SLOT = 0
if (SLOTS.size > 31) throw new Error('protobuf-codec: more message properties than bits in a mask')
/** Each topic's fields in field order, with their slots. */
const SLOTTED: ReadonlyMap<number, ReadonlyArray<readonly [Field, number]>> = new Map(
  Object.entries(FIELDS).map(([topic, fields]) => [Number(topic), fields.map((field) => [field, SLOTS.get(field[1])!] as const)]),
)
/** The values of the message being encoded, by slot. */
const values: unknown[] = []

export function encodeProtobuf (message: Message): Uint8Array {
  // The properties the message has, not every field its topic could have: see buildMessage in
  // wire-message.ts for why reading absent properties is slow here.
  let present = 0
  const properties = message as unknown as Record<string, unknown>
  for (const key in properties) {
    const slot = SLOTS.get(key)
    if (slot === undefined) continue
    const value = properties[key]
    if (value === undefined || value === null) continue
    values[slot] = value
    present |= 1 << slot
  }
  const topic = values[TOPIC_SLOT] as number
  const fields = SLOTTED.get(topic)
  body.reset()
  try {
    if (fields === undefined) throw new ProtocolError(`cannot encode topic ${topic}`)
    // In field order, as deepstream writes them.
    for (const [field, slot] of fields) {
      if ((present & (1 << slot)) !== 0) writeField(body, field, field[1] === 'data' ? jsonText(values[slot] as string | Uint8Array) : values[slot])
    }
  } finally {
    for (let slot = 0; present !== 0; slot++, present >>>= 1) values[slot] = undefined
  }
  const bodyLen = body.pos
  const innerLen = 1 + varintSize(topic) + 1 + varintSize(bodyLen) + bodyLen
  const out = Buffer.allocUnsafe(varintSize(innerLen) + innerLen)
  let pos = 0
  const put = (value: number): void => {
    while (value > 0x7f) { out[pos++] = (value & 0x7f) | 0x80; value = Math.floor(value / 128) }
    out[pos++] = value
  }
  put(innerLen)
  out[pos++] = 0x10
  put(topic)
  out[pos++] = 0x1a
  put(bodyLen)
  body.buf.copy(out, pos, 0, bodyLen)
  return out
}

class Reader {
  pos: number
  constructor (readonly buf: Uint8Array, start: number, readonly end: number) { this.pos = start }

  varint (): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtocolError('truncated varint')
      const byte = this.buf[this.pos++]
      if (shift < 28) result |= (byte & 0x7f) << shift
      else if (shift === 28) result |= (byte & 0x0f) << 28
      shift += 7
      if ((byte & 0x80) === 0) return result | 0
    }
    throw new ProtocolError('varint too long')
  }

  bytes (): [number, number] {
    const len = this.varint()
    if (len < 0 || this.pos + len > this.end) throw new ProtocolError('truncated field')
    const start = this.pos
    this.pos += len
    return [start, this.pos]
  }

  string (): string {
    const [start, end] = this.bytes()
    return shortAscii(this.buf, start, end) ?? Buffer.from(this.buf.buffer, this.buf.byteOffset + start, end - start).toString('utf8')
  }

  skip (wire: number): void {
    switch (wire) {
      case 0: this.varint(); return
      case 1: this.pos += 8; break
      case 2: this.bytes(); return
      case 5: this.pos += 4; break
      default: throw new ProtocolError(`unsupported wire type ${wire}`)
    }
    if (this.pos > this.end) throw new ProtocolError('truncated field')
  }
}

function decodeBody (topic: number, r: Reader, message: Record<string, unknown>): void {
  const fields = BY_NUMBER.get(topic)
  if (fields === undefined) throw new ProtocolError(`unknown topic ${topic}`)
  while (r.pos < r.end) {
    const tag = r.varint()
    const field = fields.get(tag >>> 3)
    const wire = tag & 7
    if (field === undefined) { r.skip(wire); continue }
    const [, key, type] = field
    const expected = type === 'varint' || type === 'bool' ? WIRE_VARINT : WIRE_LEN
    if (wire !== expected) throw new ProtocolError(`field ${key} has wire type ${wire}`)
    switch (type) {
      case 'varint': message[key] = r.varint(); break
      case 'bool': message[key] = r.varint() !== 0; break
      case 'string': message[key] = r.string(); break
      case 'strings': ((message[key] ??= []) as string[]).push(r.string()); break
      case 'versions': {
        const [start, end] = r.bytes()
        const er = new Reader(r.buf, start, end)
        let name = ''
        let version = 0
        while (er.pos < er.end) {
          const t = er.varint()
          if (t === 0x0a) name = er.string()
          else if (t === 0x10) version = er.varint()
          else er.skip(t & 7)
        }
        ((message[key] ??= {}) as Record<string, number>)[name] = version
      }
    }
  }
}

export function decodeProtobuf (frame: ArrayBuffer | Uint8Array | string): Message {
  if (typeof frame === 'string') throw new ProtocolError('text frame on a binary endpoint')
  const buf = frame instanceof Uint8Array ? frame : new Uint8Array(frame)
  const outer = new Reader(buf, 0, buf.length)
  const len = outer.varint()
  if (len < 0 || outer.pos + len > buf.length) throw new ProtocolError('frame shorter than its length prefix')
  const r = new Reader(buf, outer.pos, outer.pos + len)
  let topic = -1
  let inner: [number, number] | null = null
  while (r.pos < r.end) {
    const tag = r.varint()
    if (tag === 0x10) topic = r.varint()
    else if (tag === 0x1a) inner = r.bytes()
    else r.skip(tag & 7)
  }
  if (topic < 0) throw new ProtocolError('message has no topic')
  const message: Record<string, unknown> = { topic }
  if (inner !== null) decodeBody(topic, new Reader(buf, inner[0], inner[1]), message)
  if (typeof message.action !== 'number') message.action = 0
  return message as unknown as Message
}

export const protobufCodec: Codec = {
  index: 0,
  name: 'ws-binary',
  isBinary: true,
  encode: encodeProtobuf,
  decode: decodeProtobuf,
}

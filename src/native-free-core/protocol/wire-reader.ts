/**
 * Reads a Message table of schemas/wire.fbs into riptide's message model,
 * checking every offset on the way. The FlatBuffers JavaScript library has
 * no verifier, and its generated accessors trust the bytes: a forged offset
 * would read another message's bytes, and a forged vector length would make
 * a reader loop for billions of items. Here, every vtable, table, string and
 * vector must lie inside the message's own bytes, or a ProtocolError says
 * which does not.
 *
 * One pass over the vtable reads only the fields present. Fields past the
 * last one known here (from a newer 1.x peer) are skipped, as FlatBuffers'
 * evolution rules require. The generated code builds messages
 * (wire-message.ts); this reads them, for the native endpoint and for the
 * cluster envelopes alike.
 */
import { ProtocolError } from '../errors.js'
import { DataFormat } from './generated/wire_generated.js'
import type { Message } from './message.js'
import { shortAscii } from './short-strings.js'

type Kind = 'u8' | 'bool' | 'i32' | 'string' | 'bytes' | 'format' | 'strings' | 'versions'

/**
 * The fields of table Message in schema order (field index = position).
 * test/native-protocol.test.ts round-trips every one through the builder.
 */
const MESSAGE_FIELDS: ReadonlyArray<readonly [string, Kind]> = [
  ['topic', 'u8'], ['action', 'u8'], ['name', 'string'], ['names', 'strings'], ['data', 'bytes'], ['dataFormat', 'format'],
  ['correlationId', 'string'], ['isAck', 'bool'], ['isError', 'bool'], ['isWriteAck', 'bool'], ['path', 'string'],
  ['version', 'i32'], ['versions', 'versions'], ['subscription', 'string'], ['pattern', 'string'], ['originalAction', 'u8'],
  ['url', 'string'], ['protocolVersion', 'string'], ['sdkVersion', 'string'], ['sdkType', 'string'],
  ['requestorName', 'string'], ['requestorData', 'string'],
]

const decoder = new TextDecoder()

/** Bounds-checked reads of one message: [start, end) of `bytes`, which `view` covers at the same offsets. */
class Reader {
  constructor (readonly bytes: Uint8Array, readonly view: DataView, readonly start: number, readonly end: number) {}

  need (at: number, size: number, what: string): void {
    if (at < this.start || size < 0 || at + size > this.end) throw new ProtocolError(`${what} lies outside the message`)
  }

  u16 (at: number, what: string): number { this.need(at, 2, what); return this.view.getUint16(at, true) }
  u32 (at: number, what: string): number { this.need(at, 4, what); return this.view.getUint32(at, true) }

  /** Follows the uoffset stored at `at`; returns where it points. */
  follow (at: number, what: string): number {
    const target = at + this.u32(at, what)
    this.need(target, 4, what)
    return target
  }

  /** A length-prefixed run of `itemSize`-byte items at `at`; returns the item count. */
  vector (at: number, itemSize: number, what: string): number {
    const length = this.u32(at, what)
    this.need(at + 4, length * itemSize, what)
    return length
  }

  /** The string whose uoffset is stored at `at`. */
  string (at: number, what: string): string {
    const target = this.follow(at, what)
    const length = this.vector(target, 1, what)
    return utf8(this.bytes, target + 4, target + 4 + length)
  }

  /** A table's vtable position and how many of its fields it describes; checks both lie inside. */
  table (at: number): { vtable: number, fields: number, size: number } {
    this.need(at, 4, 'table')
    const vtable = at - this.view.getInt32(at, true)
    const vtableSize = this.u16(vtable, 'vtable')
    const size = this.u16(vtable + 2, 'vtable')
    if (vtableSize < 4 || (vtableSize & 1) !== 0) throw new ProtocolError('malformed vtable')
    this.need(vtable, vtableSize, 'vtable')
    this.need(at, size, 'table')
    return { vtable, fields: (vtableSize - 4) >> 1, size }
  }

  /** Where field `index` of a table lies (0: absent), checked against the table's size. */
  field (at: number, layout: { vtable: number, fields: number, size: number }, index: number, size: number): number {
    if (index >= layout.fields) return 0
    const offset = this.view.getUint16(layout.vtable + 4 + 2 * index, true)
    if (offset === 0) return 0
    if (offset + size > layout.size) throw new ProtocolError(`field ${index} lies outside its table`)
    return at + offset
  }
}

/** UTF-8 to string: short ASCII runs from the cache of recent ones (short-strings.ts), the rest through TextDecoder. */
function utf8 (bytes: Uint8Array, start: number, end: number): string {
  return shortAscii(bytes, start, end) ?? decoder.decode(bytes.subarray(start, end))
}

function readVersions (r: Reader, vector: number, what: string): Record<string, number> {
  const versions: Record<string, number> = {}
  const count = r.vector(vector, 4, what)
  for (let i = 0; i < count; i++) {
    const entry = r.follow(vector + 4 + 4 * i, what)
    const layout = r.table(entry)
    const nameAt = r.field(entry, layout, 0, 4)
    const versionAt = r.field(entry, layout, 1, 4)
    versions[nameAt === 0 ? '' : r.string(nameAt, what)] = versionAt === 0 ? 0 : r.view.getInt32(versionAt, true)
  }
  return versions
}

/** The Message table at `table`, inside [start, end) of `bytes`; throws a ProtocolError if anything lies outside. */
export function readMessageTable (bytes: Uint8Array, view: DataView, table: number, start: number, end: number): Message {
  return readTable(new Reader(bytes, view, start, end), table)
}

/** The root Message of the buffer in [start, end) of `bytes` (no size prefix). */
export function readMessage (bytes: Uint8Array, view: DataView, start: number, end: number): Message {
  const r = new Reader(bytes, view, start, end)
  return readTable(r, r.follow(start, 'root offset'))
}

function readTable (r: Reader, table: number): Message {
  const { bytes, view } = r
  const layout = r.table(table)
  const message: Record<string, unknown> = { topic: 0, action: 0 }
  let data: [number, number] | null = null
  let binary = false
  const known = Math.min(layout.fields, MESSAGE_FIELDS.length)
  for (let index = 0; index < known; index++) {
    const [key, kind] = MESSAGE_FIELDS[index]
    const at = r.field(table, layout, index, kind === 'u8' || kind === 'bool' || kind === 'format' ? 1 : 4)
    if (at === 0) continue
    switch (kind) {
      case 'u8': message[key] = view.getUint8(at); break
      case 'bool': message[key] = view.getUint8(at) !== 0; break
      case 'format': binary = view.getUint8(at) === DataFormat.Binary; break
      case 'i32': message[key] = view.getInt32(at, true); break
      case 'string': message[key] = r.string(at, key); break
      case 'bytes': {
        const target = r.follow(at, key)
        const length = r.vector(target, 1, key)
        data = [target + 4, target + 4 + length]
        break
      }
      case 'strings': {
        const target = r.follow(at, key)
        const count = r.vector(target, 4, key)
        const names = new Array<string>(count)
        for (let i = 0; i < count; i++) names[i] = r.string(target + 4 + 4 * i, key)
        message[key] = names
        break
      }
      case 'versions': message[key] = readVersions(r, r.follow(at, key), key)
    }
  }
  // Bytes are copied: the frame's buffer is reused once the callback that got it returns (uWS).
  if (data !== null) message.data = binary ? bytes.slice(data[0], data[1]) : utf8(bytes, data[0], data[1])
  return message as unknown as Message
}

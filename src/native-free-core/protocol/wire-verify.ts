/**
 * Checks an untrusted FlatBuffer against the shape of schemas/wire.fbs
 * before the generated accessors read it. The FlatBuffers JavaScript library
 * has no verifier: without this, a forged offset reads another message's
 * bytes and a forged vector length makes a reader loop for billions of items.
 *
 * Every offset, vtable, string and vector must lie inside the message's own
 * bytes. Unknown fields at the end of a table (from a newer 1.x client) are
 * allowed and skipped, as FlatBuffers' evolution rules require.
 */
import { ProtocolError } from '../errors.js'

type Scalar = 'u8' | 'i32'
type FieldShape = Scalar | 'string' | 'bytes' | 'strings' | { tables: TableShape }
/** Field shapes in schema order (field index = position). */
type TableShape = readonly FieldShape[]

const VERSION_ENTRY: TableShape = ['string', 'i32']

/** schemas/wire.fbs, table Message; test/native-protocol.test.ts round-trips every field through it. */
export const MESSAGE_SHAPE: TableShape = [
  'u8', 'u8', // topic, action
  'string', 'strings', // name, names
  'bytes', 'u8', // data, data_format
  'string', // correlation_id
  'u8', 'u8', 'u8', // is_ack, is_error, is_write_ack
  'string', 'i32', { tables: VERSION_ENTRY }, // path, version, versions
  'string', 'string', // subscription, pattern
  'u8', // original_action
  'string', 'string', 'string', 'string', 'string', 'string', // url … requestor_data
]

const SCALAR_SIZE: Record<Scalar, number> = { u8: 1, i32: 4 }
/** Tables nest only as VersionEntry inside Message. */
const MAX_DEPTH = 2

/** Reads of one message's bytes, [start, end) of the frame's view, each checked against those bounds. */
class Bounds {
  constructor (readonly view: DataView, readonly start: number, readonly end: number) {}

  need (at: number, size: number, what: string): void {
    if (at < this.start || size < 0 || at + size > this.end) throw new ProtocolError(`${what} lies outside the message`)
  }

  u16 (at: number, what: string): number { this.need(at, 2, what); return this.view.getUint16(at, true) }
  u32 (at: number, what: string): number { this.need(at, 4, what); return this.view.getUint32(at, true) }
  i32 (at: number, what: string): number { this.need(at, 4, what); return this.view.getInt32(at, true) }

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
}

function verifyTable (b: Bounds, table: number, shape: TableShape, depth: number): void {
  if (depth > MAX_DEPTH) throw new ProtocolError('tables nest too deeply')
  const vtable = table - b.i32(table, 'table')
  const vtableSize = b.u16(vtable, 'vtable')
  const tableSize = b.u16(vtable + 2, 'vtable')
  if (vtableSize < 4 || (vtableSize & 1) !== 0) throw new ProtocolError('malformed vtable')
  b.need(vtable, vtableSize, 'vtable')
  b.need(table, tableSize, 'table')
  const fields = Math.min(shape.length, (vtableSize - 4) >> 1)
  for (let index = 0; index < fields; index++) {
    const offset = b.u16(vtable + 4 + 2 * index, 'vtable')
    if (offset === 0) continue
    const field = shape[index]
    const size = typeof field === 'string' && field in SCALAR_SIZE ? SCALAR_SIZE[field as Scalar] : 4
    if (offset + size > tableSize) throw new ProtocolError(`field ${index} lies outside its table`)
    const at = table + offset
    if (field === 'u8' || field === 'i32') continue
    const target = b.follow(at, `field ${index}`)
    if (field === 'string' || field === 'bytes') {
      b.vector(target, 1, `field ${index}`)
    } else if (field === 'strings') {
      const count = b.vector(target, 4, `field ${index}`)
      for (let i = 0; i < count; i++) b.vector(b.follow(target + 4 + 4 * i, `field ${index}`), 1, `field ${index}`)
    } else {
      const count = b.vector(target, 4, `field ${index}`)
      for (let i = 0; i < count; i++) verifyTable(b, b.follow(target + 4 + 4 * i, `field ${index}`), field.tables, depth + 1)
    }
  }
}

/** Throws a ProtocolError unless bytes [start, end) of `view` hold one well-formed Message buffer (no size prefix). */
export function verifyMessage (view: DataView, start: number, end: number): void {
  const b = new Bounds(view, start, end)
  verifyTable(b, b.follow(start, 'root offset'), MESSAGE_SHAPE, 1)
}

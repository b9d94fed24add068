/**
 * A hash table of names in one growable SharedArrayBuffer, shared by every
 * worker thread: name -> (value: u32, aux: f64). The state registries keep a
 * bitmask of workers in `value`; the lock registry keeps an owner in `value`
 * and a lease deadline in `aux`.
 *
 * Writers take the spin lock and bump the seqlock around their change;
 * readers never lock, they retry when a write overlapped (atomics.ts).
 *
 *   byte 0                                   64
 *   +-----------------------------------------+------------------------------+----------------+-------------
 *   | header: 16 x Int32                      | slots: CAPACITY x 32 bytes   | key arena      | scratch for
 *   | LOCK SEQ CAPACITY USED LIVE ARENA_SIZE  | hash keyOffset keyLength     | UTF-8 names,   | rebuilds
 *   | ARENA_USED ...                          | value pad aux(f64) pad       | back to back   | (grows)
 *   +-----------------------------------------+------------------------------+----------------+-------------
 *
 * Open addressing with linear probing. A slot, once it holds a name, keeps
 * it until the next rebuild (a value of 0 means "absent"), so probing never
 * meets a hole in the middle of a chain. When used slots pass 60% of the
 * capacity or the arena is full, the writer rebuilds the table with only the
 * live names: it builds the new table in the scratch area past the current
 * one, then copies it down to offset 64. Readers see the odd sequence number
 * and retry meanwhile; their reads are bounds-checked, so a torn read only
 * costs a retry.
 */
import { acquire, beginWrite, endWrite, load, readConsistent, release, releaseIfHeldBy } from './atomics.js'

const HEADER_BYTES = 64
const LOCK = 0
const SEQ = 1
const CAPACITY = 2
const USED = 3
const LIVE = 4
const ARENA_SIZE = 5
const ARENA_USED = 6

const SLOT_BYTES = 32
const SLOT_INTS = SLOT_BYTES / 4
const S_HASH = 0
const S_KEY_OFFSET = 1
const S_KEY_LENGTH = 2
const S_VALUE = 3
const S_AUX_F64 = 2 // index in Float64 units within the slot (byte 16)
const EMPTY = -1

const MAX_KEY_BYTES = 65536
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface Entry { name: string, value: number, aux: number }

function fnv1a (bytes: Uint8Array, length: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < length; i++) {
    hash ^= bytes[i]
    hash = Math.imul(hash, 0x01000193)
  }
  return hash | 0
}

function regionBytes (capacity: number, arenaSize: number): number {
  return capacity * SLOT_BYTES + arenaSize
}

export class SharedNameTable {
  /**
   * Fixed-length views of the buffer as this thread last saw it, made again once the table has
   * grown past them (fit): a length-tracking view of a growable buffer costs a runtime call on
   * every access, 20 to 37 ns here against 3 to 6.
   */
  private ints!: Int32Array
  private floats!: Float64Array
  private bytes!: Uint8Array
  private scratch = new Uint8Array(256)

  private constructor (readonly buffer: SharedArrayBuffer, private readonly owner: number) {
    this.view()
  }

  private view (): void {
    const length = this.buffer.byteLength
    this.ints = new Int32Array(this.buffer, 0, length >> 2)
    this.floats = new Float64Array(this.buffer, 0, length >> 3)
    this.bytes = new Uint8Array(this.buffer, 0, length)
  }

  /** Makes the views cover the table as its header describes it (another thread may have grown it). */
  private fit (): void {
    if (HEADER_BYTES + regionBytes(this.ints[CAPACITY], this.ints[ARENA_SIZE]) > this.bytes.length) this.view()
  }

  /** A new empty table; `maxBytes` bounds its growth. */
  static create (capacity = 1024, arenaSize = 64 * 1024, maxBytes = 1 << 30): SharedNameTable {
    const buffer = new SharedArrayBuffer(HEADER_BYTES + regionBytes(capacity, arenaSize), { maxByteLength: maxBytes })
    const table = new SharedNameTable(buffer, 1)
    table.clearSlots(HEADER_BYTES / 4, capacity)
    table.ints[CAPACITY] = capacity
    table.ints[ARENA_SIZE] = arenaSize
    return table
  }

  /** Opens a table created elsewhere; `owner` (non-zero, unique per thread) tags its lock. */
  static attach (buffer: SharedArrayBuffer, owner: number): SharedNameTable {
    return new SharedNameTable(buffer, owner)
  }

  private clearSlots (firstInt: number, capacity: number): void {
    for (let slot = 0; slot < capacity; slot++) {
      const at = firstInt + slot * SLOT_INTS
      this.ints.fill(0, at, at + SLOT_INTS)
      this.ints[at + S_KEY_OFFSET] = EMPTY
    }
  }

  private encode (name: string): number {
    const needed = name.length * 3
    if (needed > this.scratch.length) this.scratch = new Uint8Array(Math.max(needed, this.scratch.length * 2))
    const { written } = encoder.encodeInto(name, this.scratch)
    if (written > MAX_KEY_BYTES) throw new RangeError(`name of ${written} bytes is over the shared table's limit of ${MAX_KEY_BYTES}`)
    return written
  }

  /** The slot (int index of its first word) holding the first `length` scratch bytes, or -1 with `free` set to the first empty slot. */
  private find (length: number, hash: number): { slot: number, free: number } {
    this.fit()
    const capacity = this.ints[CAPACITY]
    const arenaBase = HEADER_BYTES + capacity * SLOT_BYTES
    const limit = this.bytes.length
    let index = hash & (capacity - 1)
    for (let probes = 0; probes < capacity; probes++) {
      const at = HEADER_BYTES / 4 + index * SLOT_INTS
      const keyOffset = this.ints[at + S_KEY_OFFSET]
      if (keyOffset === EMPTY) return { slot: -1, free: at }
      if (this.ints[at + S_HASH] === hash && this.ints[at + S_KEY_LENGTH] === length) {
        const start = arenaBase + keyOffset
        if (start >= 0 && start + length <= limit && this.sameKey(start, length)) return { slot: at, free: -1 }
      }
      index = (index + 1) & (capacity - 1)
    }
    return { slot: -1, free: -1 }
  }

  private sameKey (start: number, length: number): boolean {
    const { bytes, scratch } = this
    for (let i = 0; i < length; i++) if (bytes[start + i] !== scratch[i]) return false
    return true
  }

  /**
   * A count that moves on whenever any entry changes (odd while a change is under way): a value
   * read while it stood still may be used again until it moves.
   */
  changes (): number {
    return load(this.ints, SEQ)
  }

  /** The entry for `name`, or null when it is absent or its value is 0. */
  get (name: string): { value: number, aux: number } | null {
    const length = this.encode(name)
    const hash = fnv1a(this.scratch, length)
    return readConsistent(this.ints, SEQ, () => {
      const { slot } = this.find(length, hash)
      if (slot === -1 || this.ints[slot + S_VALUE] === 0) return null
      return { value: this.ints[slot + S_VALUE] >>> 0, aux: this.floats[slot / 2 + S_AUX_F64] }
    })
  }

  /**
   * Changes one entry atomically: `change` gets the current value and aux
   * (0 and 0 when absent) and returns the new ones, or null to leave it.
   * Returns the value before and after.
   */
  update (name: string, change: (value: number, aux: number) => { value: number, aux: number } | null): { before: number, after: number } {
    const length = this.encode(name)
    const hash = fnv1a(this.scratch, length)
    acquire(this.ints, LOCK, this.owner)
    try {
      let { slot, free } = this.find(length, hash)
      const before = slot === -1 ? 0 : this.ints[slot + S_VALUE] >>> 0
      const next = change(before, slot === -1 ? 0 : this.floats[slot / 2 + S_AUX_F64])
      if (next === null || (slot === -1 && next.value === 0)) return { before, after: before }
      beginWrite(this.ints, SEQ)
      try {
        if (slot === -1) {
          if (free === -1 || this.needsRebuild(length)) {
            this.rebuild(length)
            free = this.find(length, hash).free
          }
          slot = free
          this.insertKey(slot, length, hash)
        }
        const wasLive = before !== 0
        this.ints[slot + S_VALUE] = next.value | 0
        this.floats[slot / 2 + S_AUX_F64] = next.aux
        if (wasLive !== (next.value !== 0)) this.ints[LIVE] += next.value !== 0 ? 1 : -1
      } finally {
        endWrite(this.ints, SEQ)
      }
      return { before, after: next.value >>> 0 }
    } finally {
      release(this.ints, LOCK)
    }
  }

  private needsRebuild (length: number): boolean {
    return (this.ints[USED] + 1) * 10 > this.ints[CAPACITY] * 6 || this.ints[ARENA_USED] + length > this.ints[ARENA_SIZE]
  }

  private insertKey (slot: number, length: number, hash: number): void {
    const arenaBase = HEADER_BYTES + this.ints[CAPACITY] * SLOT_BYTES
    const offset = this.ints[ARENA_USED]
    this.bytes.set(this.scratch.subarray(0, length), arenaBase + offset)
    this.ints[ARENA_USED] = offset + length
    this.ints[slot + S_HASH] = hash
    this.ints[slot + S_KEY_LENGTH] = length
    this.ints[slot + S_KEY_OFFSET] = offset
    this.ints[USED]++
  }

  /** Rebuilds with only the live names, sized for them plus the key of `pending` bytes about to go in. Caller holds the lock and an odd seq. */
  private rebuild (pending: number): void {
    const oldCapacity = this.ints[CAPACITY]
    const oldArenaBase = HEADER_BYTES + oldCapacity * SLOT_BYTES
    const live = this.ints[LIVE]
    let capacity = oldCapacity
    while ((live + 1) * 10 > capacity * 4) capacity *= 2
    let liveBytes = 0
    for (let slot = 0; slot < oldCapacity; slot++) {
      const at = HEADER_BYTES / 4 + slot * SLOT_INTS
      if (this.ints[at + S_KEY_OFFSET] !== EMPTY && this.ints[at + S_VALUE] !== 0) liveBytes += this.ints[at + S_KEY_LENGTH]
    }
    let arenaSize = this.ints[ARENA_SIZE]
    while (liveBytes + pending > arenaSize / 2) arenaSize *= 2
    const oldEnd = oldArenaBase + this.ints[ARENA_SIZE]
    const scratchBase = oldEnd + ((8 - (oldEnd % 8)) % 8)
    const size = regionBytes(capacity, arenaSize)
    const needed = Math.max(scratchBase + size, HEADER_BYTES + size)
    if (this.buffer.byteLength < needed) this.buffer.grow(needed)
    if (this.bytes.length < needed) this.view()
    // Build the new table in the scratch area.
    const newInts = scratchBase / 4
    this.clearSlots(newInts, capacity)
    const newArenaBase = scratchBase + capacity * SLOT_BYTES
    let arenaUsed = 0
    let used = 0
    for (let slot = 0; slot < oldCapacity; slot++) {
      const at = HEADER_BYTES / 4 + slot * SLOT_INTS
      if (this.ints[at + S_KEY_OFFSET] === EMPTY || this.ints[at + S_VALUE] === 0) continue
      const hash = this.ints[at + S_HASH]
      const length = this.ints[at + S_KEY_LENGTH]
      let index = hash & (capacity - 1)
      while (this.ints[newInts + index * SLOT_INTS + S_KEY_OFFSET] !== EMPTY) index = (index + 1) & (capacity - 1)
      const to = newInts + index * SLOT_INTS
      this.bytes.copyWithin(newArenaBase + arenaUsed, oldArenaBase + this.ints[at + S_KEY_OFFSET], oldArenaBase + this.ints[at + S_KEY_OFFSET] + length)
      this.ints[to + S_HASH] = hash
      this.ints[to + S_KEY_OFFSET] = arenaUsed
      this.ints[to + S_KEY_LENGTH] = length
      this.ints[to + S_VALUE] = this.ints[at + S_VALUE]
      this.floats[to / 2 + S_AUX_F64] = this.floats[at / 2 + S_AUX_F64]
      arenaUsed += length
      used++
    }
    // Move it down to the fixed place.
    this.bytes.copyWithin(HEADER_BYTES, scratchBase, scratchBase + size)
    this.ints[CAPACITY] = capacity
    this.ints[ARENA_SIZE] = arenaSize
    this.ints[ARENA_USED] = arenaUsed
    this.ints[USED] = used
    this.ints[LIVE] = used
  }

  /** Every live entry whose name starts with `prefix`. */
  entries (prefix = ''): Entry[] {
    return readConsistent(this.ints, SEQ, () => {
      this.fit()
      const capacity = this.ints[CAPACITY]
      const arenaBase = HEADER_BYTES + capacity * SLOT_BYTES
      const limit = this.bytes.length
      const found: Entry[] = []
      for (let slot = 0; slot < capacity; slot++) {
        const at = HEADER_BYTES / 4 + slot * SLOT_INTS
        const keyOffset = this.ints[at + S_KEY_OFFSET]
        const value = this.ints[at + S_VALUE]
        if (keyOffset === EMPTY || value === 0) continue
        const start = arenaBase + keyOffset
        const end = start + this.ints[at + S_KEY_LENGTH]
        if (start < 0 || end > limit || end < start) continue
        const name = decoder.decode(this.bytes.slice(start, end))
        if (name.startsWith(prefix)) found.push({ name, value: value >>> 0, aux: this.floats[at / 2 + S_AUX_F64] })
      }
      return found
    })
  }

  /** Applies `change` to every live entry (the supervisor's clean-up after a worker died); returns the names whose value became 0. */
  updateAll (change: (value: number, aux: number) => number): string[] {
    acquire(this.ints, LOCK, this.owner)
    const emptied: string[] = []
    beginWrite(this.ints, SEQ)
    try {
      this.fit()
      const capacity = this.ints[CAPACITY]
      const arenaBase = HEADER_BYTES + capacity * SLOT_BYTES
      for (let slot = 0; slot < capacity; slot++) {
        const at = HEADER_BYTES / 4 + slot * SLOT_INTS
        const value = this.ints[at + S_VALUE] >>> 0
        if (this.ints[at + S_KEY_OFFSET] === EMPTY || value === 0) continue
        const next = change(value, this.floats[at / 2 + S_AUX_F64]) >>> 0
        if (next === value) continue
        this.ints[at + S_VALUE] = next | 0
        if (next === 0) {
          this.ints[LIVE]--
          const start = arenaBase + this.ints[at + S_KEY_OFFSET]
          emptied.push(decoder.decode(this.bytes.slice(start, start + this.ints[at + S_KEY_LENGTH])))
        }
      }
    } finally {
      endWrite(this.ints, SEQ)
      release(this.ints, LOCK)
    }
    return emptied
  }

  /** Frees the table lock if `owner` (a dead thread) held it; a write it left half done leaves the seq odd, so even it out. */
  recoverFrom (owner: number): boolean {
    if (!releaseIfHeldBy(this.ints, LOCK, owner)) return false
    if ((this.ints[SEQ] & 1) === 1) endWrite(this.ints, SEQ)
    return true
  }

  /** Bytes in use, for monitoring. */
  get byteLength (): number { return this.buffer.byteLength }
}

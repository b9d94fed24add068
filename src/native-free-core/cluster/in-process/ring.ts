/**
 * One worker's inbound message ring in a SharedArrayBuffer: many producers
 * (the other workers and the supervisor), one consumer (the owner).
 *
 *   byte 0                       32                                    32 + CAPACITY
 *   +----------------------------+--------------------------------------+
 *   | header: 8 x Int32          | records, each 4-byte aligned:         |
 *   | LOCK HEAD TAIL SIGNAL      |   u32 length | payload | pad          |
 *   | SPACE CAPACITY WAITING -   |   length 0xFFFFFFFF = wrap to start   |
 *   +----------------------------+--------------------------------------+
 *
 * HEAD and TAIL are byte counters that only grow (mod 2^32); their
 * difference is the bytes in use. Producers serialise on LOCK, copy the
 * record, publish TAIL, then bump SIGNAL, and notify only if the consumer
 * said it is WAITING (a notify is a futex call; a busy consumer needs none).
 * A producer may write several records and signal once (`signalConsumer`).
 * The consumer reads from HEAD to TAIL without the lock, publishes HEAD,
 * then bumps SPACE so that a producer waiting for room can retry. A record
 * that does not fit is never dropped: `tryWrite` says no and the producer
 * keeps it (see WorkerClusterNode.holdBack).
 */
import { acquire, load, release, releaseIfHeldBy, signal, signalIfWaiting, store, waitForSignal } from './atomics.js'
import { copyBytes } from '../../protocol/binary-data.js'

const HEADER_BYTES = 32
const LOCK = 0
const HEAD = 1
const TAIL = 2
const SIGNAL = 3
const SPACE = 4
const CAPACITY = 5
const WAITING = 6
const WRAP = 0xffffffff

function padded (length: number): number {
  return (length + 3) & ~3
}

export class Ring {
  private readonly ints: Int32Array
  private readonly data: Uint8Array
  private readonly lengths: DataView
  readonly capacity: number

  private constructor (readonly buffer: SharedArrayBuffer, private readonly owner: number) {
    this.ints = new Int32Array(buffer, 0, HEADER_BYTES / 4)
    this.capacity = this.ints[CAPACITY]
    this.data = new Uint8Array(buffer, HEADER_BYTES, this.capacity)
    this.lengths = new DataView(buffer, HEADER_BYTES, this.capacity)
  }

  /** A new ring of `capacity` bytes (a power of two). */
  static create (capacity = 4 << 20): Ring {
    if ((capacity & (capacity - 1)) !== 0 || capacity < 1024) throw new RangeError('ring capacity must be a power of two of at least 1024 bytes')
    const buffer = new SharedArrayBuffer(HEADER_BYTES + capacity)
    new Int32Array(buffer)[CAPACITY] = capacity
    return new Ring(buffer, 1)
  }

  /** Opens a ring created elsewhere; `owner` (non-zero, unique per thread) tags its lock. */
  static attach (buffer: SharedArrayBuffer, owner: number): Ring {
    return new Ring(buffer, owner)
  }

  /** The largest payload that can ever fit. */
  get maxPayload (): number { return this.capacity / 2 - 8 }

  /**
   * Appends one record; false, writing nothing, when the ring has no room now. With `signalNow`
   * false the consumer is not told yet: the producer calls `signalConsumer` after its last record.
   */
  tryWrite (payload: Uint8Array, signalNow = true): boolean {
    const length = payload.byteLength
    if (length > this.maxPayload) throw new RangeError(`a ${length}-byte message is over the ring's limit of ${this.maxPayload}`)
    const size = 4 + padded(length)
    acquire(this.ints, LOCK, this.owner)
    try {
      const head = load(this.ints, HEAD) >>> 0
      const tail = this.ints[TAIL] >>> 0
      const used = (tail - head) >>> 0
      let at = tail & (this.capacity - 1)
      const untilEnd = this.capacity - at
      const wrap = untilEnd < size
      const needed = size + (wrap ? untilEnd : 0)
      if (used + needed > this.capacity) return false
      if (wrap) {
        // untilEnd >= 4 always: every record is a multiple of 4 bytes.
        this.lengths.setUint32(at, WRAP, true)
        at = 0
      }
      this.lengths.setUint32(at, length, true)
      this.data.set(payload, at + 4)
      store(this.ints, TAIL, (tail + needed) | 0)
    } finally {
      release(this.ints, LOCK)
    }
    if (signalNow) this.signalConsumer()
    return true
  }

  /** Tells the consumer that records were written: a futex wake only if it waits. */
  signalConsumer (): void {
    signalIfWaiting(this.ints, SIGNAL, WAITING)
  }

  /** Calls `read` for up to `max` records, oldest first, then frees their room. Consumer only. */
  drain (read: (payload: Uint8Array) => void, max = 1024): number {
    let head = this.ints[HEAD] >>> 0
    const tail = load(this.ints, TAIL) >>> 0
    let count = 0
    while (head !== tail && count < max) {
      let at = head & (this.capacity - 1)
      let length = this.lengths.getUint32(at, true)
      if (length === WRAP) {
        head = (head + (this.capacity - at)) >>> 0
        at = 0
        length = this.lengths.getUint32(0, true)
      }
      // A copy: the payload must outlive the room it occupied.
      const payload = copyBytes(this.data.subarray(at + 4, at + 4 + length))
      head = (head + 4 + padded(length)) >>> 0
      count++
      try {
        read(payload)
      } finally {
        store(this.ints, HEAD, head | 0)
      }
    }
    if (count > 0) signal(this.ints, SPACE)
    return count
  }

  /** Whether the consumer sleeps waiting for a signal. */
  get waiting (): boolean { return load(this.ints, WAITING) !== 0 }

  /** Whether records are waiting. */
  get pending (): boolean { return load(this.ints, HEAD) !== load(this.ints, TAIL) }

  /**
   * Resolves at once if records are waiting; otherwise once a producer signals, or after
   * `timeoutMs`. Consumer only. WAITING is set before the last look at TAIL, so a producer
   * that wrote after that look sees it and notifies.
   */
  async waitForData (timeoutMs: number): Promise<void> {
    const seen = load(this.ints, SIGNAL)
    store(this.ints, WAITING, 1)
    try {
      if (!this.pending) await waitForSignal(this.ints, SIGNAL, seen, timeoutMs)
    } finally {
      store(this.ints, WAITING, 0)
    }
  }

  /** Resolves once the consumer frees room, or after `timeoutMs`: for a producer holding records back. */
  waitForSpace (timeoutMs: number): Promise<void> {
    return waitForSignal(this.ints, SPACE, load(this.ints, SPACE), timeoutMs)
  }

  /** Wakes the consumer without a record (it is closing). */
  wake (): void {
    signal(this.ints, SIGNAL)
  }

  /** Drops everything unread (a new consumer taking over a dead worker's ring). */
  reset (): void {
    acquire(this.ints, LOCK, this.owner)
    try {
      store(this.ints, HEAD, load(this.ints, TAIL))
    } finally {
      release(this.ints, LOCK)
    }
    signal(this.ints, SPACE)
  }

  /** Frees the ring's lock if a dead thread held it. */
  recoverFrom (owner: number): void {
    releaseIfHeldBy(this.ints, LOCK, owner)
  }
}

/**
 * Every SharedArrayBuffer a multi-worker server shares, created once by the
 * supervisor and handed to each worker at start.
 */
import { SharedNameTable } from './name-table.js'
import { Ring } from './ring.js'
import { WorkerTable } from './worker-table.js'

export interface SharedMemory {
  readonly workers: SharedArrayBuffer
  /** State registries: `<registry>\0<name>` -> bitmask of workers holding it. */
  readonly states: SharedArrayBuffer
  /** Locks: name -> owner (worker index + 1), lease deadline in ms since the epoch. */
  readonly locks: SharedArrayBuffer
  /** One inbound ring per worker slot. */
  readonly rings: SharedArrayBuffer[]
}

export function createSharedMemory (count: number, ringBytes: number): SharedMemory {
  return {
    workers: WorkerTable.create(count).buffer,
    states: SharedNameTable.create().buffer,
    locks: SharedNameTable.create(256, 16 * 1024).buffer,
    rings: Array.from({ length: count }, () => Ring.create(ringBytes).buffer),
  }
}

/** Owner ids tag shared locks: worker i is i + 1, the supervisor this one. */
export const SUPERVISOR_OWNER = 0x7fff

export function ownerOf (workerIndex: number): number { return workerIndex + 1 }

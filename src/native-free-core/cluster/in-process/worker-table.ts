/**
 * Which worker slots are alive, in a SharedArrayBuffer the supervisor owns
 * and every worker reads: the cluster registry's liveness and the
 * connection counts monitoring and tests read.
 *
 *   Int32 index   0        1..3       4 + 4i     5 + 4i       6 + 4i        7 + 4i
 *                 +--------+----------+----------+------------+-------------+-------------+
 *                 | COUNT  | reserved | STATE(i) | GENERATION | CONNECTIONS | reserved    |  ... per worker
 *                 +--------+----------+----------+------------+-------------+-------------+
 *
 * STATE: 0 never started, 1 starting, 2 serving, 3 dead. Only the
 * supervisor writes STATE and GENERATION; a worker writes its CONNECTIONS.
 */
import { load, signal, store } from './atomics.js'

const COUNT = 0
const HEADER_INTS = 4
const STRIDE = 4
const STATE = 0
const GENERATION = 1
const CONNECTIONS = 2

export const WORKER_STATE = { NEW: 0, STARTING: 1, SERVING: 2, DEAD: 3 } as const
export type WorkerState = (typeof WORKER_STATE)[keyof typeof WORKER_STATE]

/** The most workers one process runs: the state registries keep them in a 32-bit mask. */
export const MAX_WORKERS = 32

export class WorkerTable {
  private readonly ints: Int32Array

  private constructor (readonly buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer)
  }

  static create (count: number): WorkerTable {
    if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) throw new RangeError(`workers must be 1 to ${MAX_WORKERS}, got ${count}`)
    const table = new WorkerTable(new SharedArrayBuffer((HEADER_INTS + count * STRIDE) * 4))
    table.ints[COUNT] = count
    return table
  }

  static attach (buffer: SharedArrayBuffer): WorkerTable {
    return new WorkerTable(buffer)
  }

  get count (): number { return this.ints[COUNT] }

  state (index: number): WorkerState { return load(this.ints, HEADER_INTS + index * STRIDE + STATE) as WorkerState }

  generation (index: number): number { return load(this.ints, HEADER_INTS + index * STRIDE + GENERATION) }

  /** Supervisor only. Starting a slot again bumps its generation. */
  setState (index: number, state: WorkerState): void {
    const base = HEADER_INTS + index * STRIDE
    if (state === WORKER_STATE.STARTING) store(this.ints, base + GENERATION, load(this.ints, base + GENERATION) + 1)
    if (state === WORKER_STATE.DEAD) store(this.ints, base + CONNECTIONS, 0)
    store(this.ints, base + STATE, state)
    signal(this.ints, COUNT + 1)
  }

  isAlive (index: number): boolean {
    const state = this.state(index)
    return state === WORKER_STATE.STARTING || state === WORKER_STATE.SERVING
  }

  /** Indexes of the slots that are starting or serving. */
  alive (): number[] {
    const found: number[] = []
    for (let i = 0; i < this.count; i++) if (this.isAlive(i)) found.push(i)
    return found
  }

  setConnections (index: number, connections: number): void { store(this.ints, HEADER_INTS + index * STRIDE + CONNECTIONS, connections) }

  connections (index: number): number { return load(this.ints, HEADER_INTS + index * STRIDE + CONNECTIONS) }
}

/**
 * Locks shared by the worker threads of one process, in a SharedNameTable:
 * name -> owner (worker index + 1) and lease deadline (ms since the epoch).
 * Taking and releasing are single atomic table updates; a lease that ran
 * out, or an owner the worker table says is dead, loses the lock to the
 * next taker, and the supervisor frees a dead worker's locks at once.
 */
import type { LockRegistry } from '../../plugins/locks/locks.js'
import { SharedNameTable } from './name-table.js'
import { WorkerTable } from './worker-table.js'
import type { SharedMemory } from './shared-memory.js'
import { ownerOf } from './shared-memory.js'

export class SharedLockRegistry implements LockRegistry {
  readonly description: string
  private readonly table: SharedNameTable
  private readonly workers: WorkerTable
  private readonly owner: number

  constructor (shared: SharedMemory, index: number, private readonly leaseMs = 1000) {
    this.owner = ownerOf(index)
    this.table = SharedNameTable.attach(shared.locks, this.owner)
    this.workers = WorkerTable.attach(shared.workers)
    this.description = `shared-memory locks (worker ${index})`
  }

  async get (name: string): Promise<boolean> {
    const now = Date.now()
    let taken = false
    this.table.update(name, (holder, deadline) => {
      taken = holder === 0 || deadline < now || !this.workers.isAlive(holder - 1)
      return taken ? { value: this.owner, aux: now + this.leaseMs } : null
    })
    return taken
  }

  release (name: string): void {
    this.table.update(name, (holder) => (holder === this.owner ? { value: 0, aux: 0 } : null))
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}
}

import type { LockRegistry } from './locks.js'
import type { Plugin } from '../plugin.js'

/** Locks inside one process, with a lease (default 1000 ms, deepstream's holdTimeout). */
export class LocalLockRegistry implements LockRegistry, Plugin {
  readonly description = 'local locks'
  private readonly held = new Map<string, NodeJS.Timeout>()

  constructor (private readonly leaseMs = 1000) {}

  async get (name: string): Promise<boolean> {
    if (this.held.has(name)) return false
    const lease = setTimeout(() => this.held.delete(name), this.leaseMs)
    lease.unref()
    this.held.set(name, lease)
    return true
  }

  release (name: string): void {
    const lease = this.held.get(name)
    if (lease === undefined) return
    clearTimeout(lease)
    this.held.delete(name)
  }

  async whenReady (): Promise<void> {}

  async close (): Promise<void> {
    for (const lease of this.held.values()) clearTimeout(lease)
    this.held.clear()
  }
}

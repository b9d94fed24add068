import type { Plugin } from '../plugin.js'

/**
 * Named mutual exclusion across the cluster. A lock held longer than its
 * lease is released by the registry, so a crashed owner cannot hold it forever.
 */
export interface LockRegistry extends Plugin {
  /** Resolves true when acquired, false when another owner holds it. Never waits for the holder. */
  get (name: string): Promise<boolean>
  /** Releases a lock this node holds; releasing a free lock does nothing. */
  release (name: string): void
}

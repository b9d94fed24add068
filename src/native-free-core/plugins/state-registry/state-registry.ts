import type { Plugin } from '../plugin.js'

export type StateListener = (name: string) => void

/**
 * A cluster-wide set of names (online users, providers, listen patterns),
 * reference-counted per node: `add` twice needs `remove` twice.
 * onAdd fires when a name appears cluster-wide, onRemove when it is gone
 * from every node.
 */
export interface StateRegistry {
  add (name: string): void
  remove (name: string): void
  has (name: string): boolean
  getAll (): string[]
  onAdd (listener: StateListener): void
  onRemove (listener: StateListener): void
}

/** Registries by topic name (e.g. `online-users`, `record-published`). */
export interface StateRegistryFactory extends Plugin {
  getStateRegistry (topic: string): StateRegistry
}

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
  /**
   * The other nodes that hold `name` (this one excluded), when the registry
   * knows them; a subscription registry then sends a name's messages only
   * there. Absent: messages go to every node.
   */
  nodesWith? (name: string): readonly string[]
}

/** Registries by topic name (e.g. `online-users`, `record-published`). */
export interface StateRegistryFactory extends Plugin {
  getStateRegistry (topic: string): StateRegistry
}

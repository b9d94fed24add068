import type { StateListener, StateRegistry, StateRegistryFactory } from './state-registry.js'
import { SimplePlugin } from '../plugin.js'
import { RefCounts } from './ref-counts.js'

export class LocalStateRegistry implements StateRegistry {
  private readonly counts = new RefCounts()
  private readonly added: StateListener[] = []
  private readonly removed: StateListener[] = []

  add (name: string): void {
    if (this.counts.add(name)) for (const listener of this.added) listener(name)
  }

  remove (name: string): void {
    if (this.counts.remove(name)) for (const listener of this.removed) listener(name)
  }

  has (name: string): boolean { return this.counts.has(name) }
  getAll (): string[] { return this.counts.names() }
  onAdd (listener: StateListener): void { this.added.push(listener) }
  onRemove (listener: StateListener): void { this.removed.push(listener) }
}

/** In-process state registries: the default for a single node. */
export class LocalStateRegistryFactory extends SimplePlugin implements StateRegistryFactory {
  readonly description = 'in-memory state registries'
  private readonly registries = new Map<string, LocalStateRegistry>()

  getStateRegistry (topic: string): StateRegistry {
    let registry = this.registries.get(topic)
    if (registry === undefined) {
      registry = new LocalStateRegistry()
      this.registries.set(topic, registry)
    }
    return registry
  }
}

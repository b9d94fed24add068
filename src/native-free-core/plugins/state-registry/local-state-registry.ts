import type { StateListener, StateRegistry, StateRegistryFactory } from './state-registry.js'
import { SimplePlugin } from '../plugin.js'

export class LocalStateRegistry implements StateRegistry {
  private readonly counts = new Map<string, number>()
  private readonly added: StateListener[] = []
  private readonly removed: StateListener[] = []

  add (name: string): void {
    const count = this.counts.get(name) ?? 0
    this.counts.set(name, count + 1)
    if (count === 0) for (const listener of this.added) listener(name)
  }

  remove (name: string): void {
    const count = this.counts.get(name)
    if (count === undefined) return
    if (count > 1) {
      this.counts.set(name, count - 1)
      return
    }
    this.counts.delete(name)
    for (const listener of this.removed) listener(name)
  }

  has (name: string): boolean { return this.counts.has(name) }
  getAll (): string[] { return [...this.counts.keys()] }
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

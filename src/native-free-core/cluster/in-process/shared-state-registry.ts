/**
 * State registries shared by the worker threads of one process. Every name
 * of every registry lives in one SharedNameTable as `<registry>\0<name>`
 * with a bitmask of the workers that hold it; each worker keeps its own
 * reference counts and changes its bit only on its own 0 <-> 1 transitions.
 *
 * A worker whose change empties or fills a name cluster-wide tells the
 * others on the `state` channel. A notice only says "look again": the
 * receiver compares the table with the names it believes present and fires
 * onAdd / onRemove on a real change, so notices from two workers that arrive
 * out of order can neither duplicate nor invert an event.
 *
 * Hosts joined in a cluster (the Redis cluster) add what they know of the other hosts' names
 * (OtherHosts): a name is present when this host's table or another host has it, and the other
 * hosts are told of every change of this worker's bit.
 */
import type { StateListener, StateRegistry, StateRegistryFactory } from '../../plugins/state-registry/state-registry.js'
import type { ClusterNode } from '../../plugins/cluster-node/cluster-node.js'
import { workerNames } from './worker-cluster-node.js'
import { SharedNameTable } from './name-table.js'
import { RefCounts } from '../../plugins/state-registry/ref-counts.js'
import type { SharedMemory } from './shared-memory.js'
import { ownerOf } from './shared-memory.js'
import { controlMessage, readControl } from '../control.js'
import type { Message } from '../../protocol/message.js'

/** The cluster channel of state notices. */
export const STATE_CHANNEL = 'state'
const SEPARATOR = '\u0000'

/** The table key of `name` in `registry`. */
export function stateKey (registry: string, name: string): string {
  return registry + SEPARATOR + name
}

/** Splits a table key into its registry and name. */
export function splitStateKey (key: string): { registry: string, name: string } {
  const at = key.indexOf(SEPARATOR)
  return { registry: key.slice(0, at), name: key.slice(at + 1) }
}

/** The notice that tells workers to look at `name` of `registry` again. */
export function stateNotice (registry: string, name: string): Message {
  return controlMessage({ kind: 'state-notice', registry, name })
}

/** What this host knows of the names of other hosts, keyed as the table is (`<registry>\0<name>`). */
export interface OtherHosts {
  has (key: string): boolean
  /** The keys other hosts hold that start with `prefix`. */
  keys (prefix: string): Iterable<string>
  /** The workers of other hosts that hold `key`, by server name. */
  nodesWith (key: string): readonly string[]
  /** This worker set or cleared its own bit of `key`. */
  changed (key: string): void
  /** Resolves once the shared service has `bit` (this worker's) of `key` as this host's table has it now. */
  whenShared (key: string, bit: number): Promise<void>
  /** Whether another host holds `key`, read from the shared service now. */
  heldElsewhere (key: string): Promise<boolean>
  /** Started and stopped with the registries. */
  whenReady (): Promise<void>
  close (): Promise<void>
}

/** Names whose table values a registry keeps between changes of the table (see valueOf). */
const VALUES_KEPT = 65536

export class SharedStateRegistry implements StateRegistry {
  private readonly counts = new RefCounts()
  /** Table values read since the table last changed, by name, and the change count they were read at. */
  private readonly values = new Map<string, number>()
  private valuesAt = -1
  private readonly known: Set<string>
  private readonly added: StateListener[] = []
  private readonly removed: StateListener[] = []
  private readonly prefix: string

  constructor (
    readonly topic: string,
    private readonly table: SharedNameTable,
    private readonly index: number,
    private readonly cluster: ClusterNode,
    private readonly base: string,
    private readonly otherHosts: OtherHosts | null,
  ) {
    this.prefix = stateKey(topic, '')
    this.known = new Set(this.getAll())
  }

  add (name: string): void {
    if (!this.counts.add(name)) return
    const bit = 1 << this.index
    const { before } = this.table.update(this.prefix + name, (mask) => ({ value: (mask | bit) >>> 0, aux: 0 }))
    if (before === 0) this.announce(name)
    this.otherHosts?.changed(this.prefix + name)
    this.reconcile(name)
  }

  remove (name: string): void {
    if (!this.counts.remove(name)) return
    const bit = 1 << this.index
    const { after } = this.table.update(this.prefix + name, (mask) => ({ value: (mask & ~bit) >>> 0, aux: 0 }))
    if (after === 0) this.announce(name)
    this.otherHosts?.changed(this.prefix + name)
    this.reconcile(name)
  }

  has (name: string): boolean {
    return this.valueOf(name) !== 0 || this.otherHosts?.has(this.prefix + name) === true
  }

  /**
   * The table's value of `name` (its bitmask of workers; 0: absent). Publishing asks it for every
   * message, and subscriptions change far less often than messages go out: a value is read from
   * the table once per name until any entry of the table changes.
   */
  private valueOf (name: string): number {
    const at = this.table.changes()
    if (at !== this.valuesAt) {
      this.values.clear()
      this.valuesAt = at
    }
    let value = this.values.get(name)
    if (value === undefined) {
      value = this.table.get(this.prefix + name)?.value ?? 0
      // Kept only if no change was under way or happened meanwhile.
      if ((at & 1) === 0 && this.table.changes() === at && this.values.size < VALUES_KEPT) this.values.set(name, value)
    }
    return value
  }

  whenShared (name: string): Promise<void> | undefined {
    return this.otherHosts?.whenShared(this.prefix + name, 1 << this.index)
  }

  heldElsewhere (name: string): Promise<boolean> | undefined {
    return this.otherHosts?.heldElsewhere(this.prefix + name)
  }

  getAll (): string[] {
    const names = this.table.entries(this.prefix).map((entry) => entry.name.slice(this.prefix.length))
    if (this.otherHosts === null) return names
    const all = new Set(names)
    for (const key of this.otherHosts.keys(this.prefix)) all.add(key.slice(this.prefix.length))
    return [...all]
  }

  workersWith (name: string): number {
    return this.valueOf(name) & ~(1 << this.index)
  }

  nodesWith (name: string): readonly string[] {
    const local = workerNames(this.base, this.workersWith(name))
    const remote = this.otherHosts?.nodesWith(this.prefix + name) ?? []
    return remote.length === 0 ? local : [...local, ...remote]
  }

  onAdd (listener: StateListener): void { this.added.push(listener) }
  onRemove (listener: StateListener): void { this.removed.push(listener) }

  private announce (name: string): void {
    this.cluster.send(STATE_CHANNEL, stateNotice(this.topic, name))
  }

  settle (name?: string): void {
    if (name !== undefined) {
      this.reconcile(name)
      return
    }
    for (const gone of [...this.known]) this.reconcile(gone)
    for (const present of this.getAll()) this.reconcile(present)
  }

  /** Fires onAdd or onRemove if the table now disagrees with what this worker believed. */
  reconcile (name: string): void {
    const present = this.has(name)
    if (present === this.known.has(name)) return
    if (present) {
      this.known.add(name)
      for (const listener of this.added) listener(name)
    } else {
      this.known.delete(name)
      for (const listener of this.removed) listener(name)
    }
  }
}

export class SharedStateRegistryFactory implements StateRegistryFactory {
  readonly description: string
  private readonly table: SharedNameTable
  private readonly registries = new Map<string, SharedStateRegistry>()

  constructor (
    shared: SharedMemory,
    private readonly index: number,
    private readonly cluster: ClusterNode,
    private readonly base: string,
    private readonly otherHosts: OtherHosts | null = null,
    description = `shared-memory state registries (worker ${index})`,
  ) {
    this.table = SharedNameTable.attach(shared.states, ownerOf(index))
    this.description = description
    cluster.subscribe(STATE_CHANNEL, (message) => {
      const notice = readControl(message)
      if (notice?.kind === 'state-notice') this.getStateRegistry(notice.registry).reconcile(notice.name)
    })
  }

  getStateRegistry (topic: string): SharedStateRegistry {
    let registry = this.registries.get(topic)
    if (registry === undefined) {
      registry = new SharedStateRegistry(topic, this.table, this.index, this.cluster, this.base, this.otherHosts)
      this.registries.set(topic, registry)
    }
    return registry
  }

  /** Fires the events of `key` (a table key) if its presence changed, as a state notice does. */
  reconcileKey (key: string): void {
    const { registry, name } = splitStateKey(key)
    this.getStateRegistry(registry).reconcile(name)
  }

  /** The workers of this host that hold `key`, as a bitmask (0: none). */
  localMask (key: string): number {
    return this.table.get(key)?.value ?? 0
  }

  /** Every key this host holds, with its bitmask of workers. */
  localEntries (): Array<{ key: string, mask: number }> {
    return this.table.entries().map((entry) => ({ key: entry.name, mask: entry.value }))
  }

  async whenReady (): Promise<void> { await this.otherHosts?.whenReady() }
  async close (): Promise<void> { await this.otherHosts?.close() }
}

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
  /**
   * The same as a bitmask of worker indices (bit i: worker i of this process), for registries
   * shared by the worker threads of one process; paired with ClusterNode.sendToWorkers, it
   * addresses workers without a name string per message.
   */
  workersWith? (name: string): number
  /**
   * Registries of hosts that share state through a service (Redis), where each host reads a copy
   * that lags behind: resolves once `name`, as this node holds it now, is in the service, so that
   * a node that reads the service after that finds it. Undefined where every node reads the same
   * state (one process's workers share memory).
   */
  whenShared? (name: string): Promise<void> | undefined
  /**
   * The same registries: whether another host holds `name`, read from the service now rather
   * than from this node's copy. Undefined where every node reads the same state.
   */
  heldElsewhere? (name: string): Promise<boolean> | undefined
  /**
   * Registries whose has() can read a change before onAdd / onRemove fire for it (workers told of
   * another worker's change by message): fires now the events this node still owes for `name`, or
   * for every name when none is given, so that an answer read from has() and the events that
   * follow it agree. Undefined where events fire as the change is made.
   */
  settle? (name?: string): void
}

/** Registries by topic name (e.g. `online-users`, `record-published`). */
export interface StateRegistryFactory extends Plugin {
  getStateRegistry (topic: string): StateRegistry
}

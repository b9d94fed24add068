/**
 * The workers of one process as a cluster: liveness from the supervisor's
 * worker table, the lowest live index leads, and the supervisor announces
 * started and dead workers on the `cluster` channel.
 */
import type { ClusterRegistry, ServerListener } from '../../plugins/cluster-registry/cluster-registry.js'
import type { ClusterNode } from '../../plugins/cluster-node/cluster-node.js'
import { workerName } from './worker-cluster-node.js'
import { WorkerTable } from './worker-table.js'
import type { SharedMemory } from './shared-memory.js'
import { readControl } from '../control.js'

/** The channel of the supervisor's node notices (a worker started or died). */
export const CLUSTER_CHANNEL = 'cluster'

export class WorkerClusterRegistry implements ClusterRegistry {
  readonly description: string
  private readonly workers: WorkerTable
  private readonly added: ServerListener[] = []
  private readonly removed: ServerListener[] = []

  constructor (shared: SharedMemory, private readonly index: number, private readonly base: string, cluster: ClusterNode) {
    this.workers = WorkerTable.attach(shared.workers)
    this.description = `worker cluster registry (worker ${index})`
    cluster.subscribe(CLUSTER_CHANNEL, (message) => {
      const notice = readControl(message)
      if (notice?.kind !== 'node-notice') return
      for (const listener of notice.alive ? this.added : this.removed) listener(notice.node)
    })
  }

  isLeader (): boolean { return this.workers.alive()[0] === this.index }

  getLeader (): string { return workerName(this.base, this.workers.alive()[0] ?? this.index) }

  getAll (): string[] { return this.workers.alive().map((i) => workerName(this.base, i)) }

  onServerAdded (listener: ServerListener): void { this.added.push(listener) }
  onServerRemoved (listener: ServerListener): void { this.removed.push(listener) }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}
}

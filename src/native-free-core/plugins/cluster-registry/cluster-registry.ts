import type { Plugin } from '../plugin.js'
import { SimplePlugin } from '../plugin.js'

export type ServerListener = (serverName: string) => void

/** Which nodes are alive, and which one leads. */
export interface ClusterRegistry extends Plugin {
  isLeader (): boolean
  getLeader (): string
  /** Every live node, this one included. */
  getAll (): string[]
  onServerAdded (listener: ServerListener): void
  onServerRemoved (listener: ServerListener): void
}

/** A cluster of one: this node is alive and leads. */
export class SingleClusterRegistry extends SimplePlugin implements ClusterRegistry {
  readonly description = 'single node cluster registry'
  constructor (private readonly serverName: string) { super() }
  isLeader (): boolean { return true }
  getLeader (): string { return this.serverName }
  getAll (): string[] { return [this.serverName] }
  onServerAdded (): void {}
  onServerRemoved (): void {}
}

import type { ClusterNode } from './cluster-node.js'
import { SimplePlugin } from '../plugin.js'

/** A cluster of one: nothing to send to, nothing to receive. */
export class SingleClusterNode extends SimplePlugin implements ClusterNode {
  readonly description = 'single node (no cluster)'
  constructor (readonly serverName: string) { super() }
  send (): void {}
  sendDirect (): void {}
  sendTo (): void {}
  subscribe (): void {}
}

/**
 * The in-process cluster node: the worker threads of one riptide process
 * exchange FlatBuffers envelopes through per-worker rings in shared memory
 * (ring.ts), woken with Atomics.notify and waited on with
 * Atomics.waitAsync, so no thread blocks its event loop.
 *
 * Order: messages from one sender to one receiver arrive in send order.
 * Backpressure: when a receiver's ring is full, the sender keeps the bytes
 * in a queue for that receiver and retries as the receiver frees room;
 * nothing is dropped. A queue is dropped only when its receiver dies.
 */
import type { ClusterMessageHandler, ClusterNode, EncodedFrames } from '../../plugins/cluster-node/cluster-node.js'
import type { Message } from '../../protocol/message.js'
import type { Logger } from '../../plugins/logger/logger.js'
import { Ring } from './ring.js'
import { WorkerTable } from './worker-table.js'
import type { SharedMemory } from './shared-memory.js'
import { ownerOf } from './shared-memory.js'
import { decodeEnvelope, encodeEnvelope, SUPERVISOR } from '../envelope-codec.js'
import { controlMessage, readControl } from '../control.js'
import { afterPublishesWritten } from '../../connection/turn-output.js'
import { frameClock } from '../../protocol/frame-clock.js'
import { errorStack } from '../../errors.js'

/** Worker `index` of server `base` is named `base/index`. */
export function workerName (base: string, index: number): string {
  return `${base}/${index}`
}

/** The names of the workers of server `base` whose bits are set in `mask` (bit i: worker i). */
export function workerNames (base: string, mask: number): string[] {
  const names: string[] = []
  for (let i = 0; i < 32; i++) if ((mask & (1 << i)) !== 0) names.push(workerName(base, i))
  return names
}

/** The index of a worker name, or -1. */
export function workerIndexOf (name: string): number {
  const slash = name.lastIndexOf('/')
  const index = Number(name.slice(slash + 1))
  return slash === -1 || !Number.isInteger(index) ? -1 : index
}

/** Records drained per turn before yielding to sockets and timers. */
const DRAIN_BATCH = 512
/**
 * Longest sleep of a sender waiting for room, and how often the receive loop's backstop looks for
 * records that no signal announced: a bound, not a poll rate.
 */
const WAIT_MS = 1000
/** A fence's question and its answer; each carries the fence's number in a count control. */
const FENCE = 'cluster/fence'
const FENCE_PASSED = 'cluster/fence/passed'
/** How long a fence waits for its worker's answer; the backstop gives up on it after that. */
const FENCE_LIMIT_MS = 1000

/** A fence to one worker (see `fence`). */
interface Fence {
  readonly id: number
  readonly target: number
  readonly passed: Promise<void>
  pass: () => void
  sentAt: number
}

export class WorkerClusterNode implements ClusterNode {
  readonly description: string
  readonly serverName: string
  private readonly rings: Ring[]
  private readonly workers: WorkerTable
  protected readonly handlers = new Map<string, ClusterMessageHandler>()
  /** Bytes held back per receiver while its ring is full. */
  private readonly backlog = new Map<number, Uint8Array[]>()
  private closed = false
  private receiving: Promise<void> | null = null
  private backstop: ReturnType<typeof setInterval> | null = null
  /** Worker names by index, built once: handlers get the sender's name with every message. */
  private readonly names: string[]
  /** Receivers written to this iteration and not yet signalled: one signal each at its end. */
  private readonly unsignalled = new Set<number>()
  /** Fences asked for this iteration, by receiver: written at its end, after all it sent. */
  private readonly gathering = new Map<number, Fence>()
  /** Fences written and not yet answered, by number. */
  private readonly unanswered = new Map<number, Fence>()
  private nextFence = 1
  private endOfIteration = false

  constructor (shared: SharedMemory, protected readonly index: number, protected readonly base: string, protected readonly logger: Logger, description?: string) {
    const owner = ownerOf(index)
    this.rings = shared.rings.map((buffer) => Ring.attach(buffer, owner))
    this.workers = WorkerTable.attach(shared.workers)
    this.serverName = workerName(base, index)
    this.names = this.rings.map((_ring, worker) => workerName(base, worker))
    this.description = description ?? `in-process cluster node, worker ${index} of ${this.rings.length}`
    this.handlers.set(FENCE, (message, from) => this.passFence(message, from))
    this.handlers.set(FENCE_PASSED, (message) => this.fencePassed(message))
  }

  async whenReady (): Promise<void> {
    this.receiving = this.receive()
    // The receive loop sleeps without a timeout: in Node a waitAsync with one posts a delayed task,
    // which costs a wake-up of this thread's loop and a timer per wait. One timer bounds them all.
    const ring = this.rings[this.index]
    this.backstop = setInterval(() => {
      if (ring.pending) ring.wake()
      if (this.unanswered.size > 0) this.giveUpOnFences()
    }, WAIT_MS)
    this.backstop.unref()
  }

  subscribe (channel: string, handler: ClusterMessageHandler): void {
    this.handlers.set(channel, handler)
  }

  send (channel: string, message: Message, frames?: EncodedFrames): void {
    const targets: number[] = []
    for (const index of this.workers.alive()) if (index !== this.index) targets.push(index)
    this.deliver(targets, channel, message, frames)
  }

  sendDirect (serverName: string, channel: string, message: Message): void {
    this.sendTo([serverName], channel, message)
  }

  sendTo (serverNames: readonly string[], channel: string, message: Message, frames?: EncodedFrames): void {
    const targets: number[] = []
    for (const name of serverNames) {
      const index = workerIndexOf(name)
      if (index >= 0 && index < this.rings.length && index !== this.index && this.workers.isAlive(index)) targets.push(index)
    }
    this.deliver(targets, channel, message, frames)
  }

  sendToWorkers (mask: number, channel: string, message: Message, frames?: EncodedFrames): void {
    const targets: number[] = []
    for (let index = 0; index < this.rings.length; index++) {
      if ((mask & (1 << index)) !== 0 && index !== this.index && this.workers.isAlive(index)) targets.push(index)
    }
    this.deliver(targets, channel, message, frames)
  }

  private deliver (targets: number[], channel: string, message: Message, frames?: EncodedFrames): void {
    if (targets.length === 0 || this.closed) return
    const bytes = encodeEnvelope(channel, this.index, message, frameClock.receivedAt, frames)
    for (const target of targets) this.write(target, bytes)
  }

  /** Writes an envelope to a receiver's ring, or behind its backlog; `bytes` may be reused after. */
  private write (target: number, bytes: Uint8Array): void {
    const queue = this.backlog.get(target)
    if (queue !== undefined) queue.push(bytes.slice())
    else if (this.rings[target].tryWrite(bytes, false)) this.signalLater(target)
    else this.holdBack(target, bytes.slice())
  }

  /**
   * Signals at the end of this event-loop iteration (an immediate), not after the current callback
   * (a microtask): every message received from a socket is a callback of its own, and a waiting
   * receiver's wake-up is a futex call, worth one per iteration rather than one per message.
   */
  private signalLater (target: number): void {
    this.unsignalled.add(target)
    this.atEndOfIteration()
  }

  private atEndOfIteration (): void {
    if (this.endOfIteration) return
    this.endOfIteration = true
    setImmediate(() => this.endIteration())
  }

  private endIteration (): void {
    this.endOfIteration = false
    if (this.gathering.size > 0) this.writeFences()
    for (const target of this.unsignalled) this.rings[target].signalConsumer()
    this.unsignalled.clear()
  }

  /**
   * A fence is a question sent behind everything this worker sent a receiver: the receiver's ring
   * is read in order, so by the time it reads the question it has handled the messages before
   * it; it answers once its publishes are written (turn-output.ts). The fences asked for in one
   * iteration share one question per receiver, written at the iteration's end.
   */
  fence (mask: number): Promise<void> | null {
    let waits: Array<Promise<void>> | null = null
    for (let target = 0; target < this.rings.length; target++) {
      if ((mask & (1 << target)) === 0 || target === this.index || this.closed || !this.workers.isAlive(target)) continue
      let fence = this.gathering.get(target)
      if (fence === undefined) {
        let pass!: () => void
        const passed = new Promise<void>((resolve) => { pass = resolve })
        fence = { id: this.nextFence++, target, passed, pass, sentAt: 0 }
        this.gathering.set(target, fence)
        this.atEndOfIteration()
      }
      (waits ??= []).push(fence.passed)
    }
    if (waits === null) return null
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined)
  }

  private writeFences (): void {
    const now = performance.now()
    for (const fence of this.gathering.values()) {
      if (this.closed || !this.workers.isAlive(fence.target)) {
        fence.pass()
        continue
      }
      fence.sentAt = now
      this.unanswered.set(fence.id, fence)
      this.deliver([fence.target], FENCE, controlMessage({ kind: 'count', value: fence.id }))
    }
    this.gathering.clear()
  }

  /** Another worker's fence: answered once what this worker published so far is written. */
  private passFence (message: Message, from: string): void {
    const control = readControl(message)
    const sender = workerIndexOf(from)
    if (control?.kind !== 'count' || sender < 0 || sender >= this.rings.length) return
    void afterPublishesWritten().then(() => {
      if (!this.workers.isAlive(sender)) return
      this.deliver([sender], FENCE_PASSED, controlMessage(control))
      // Signalled now, not at the end of the iteration: a write's acknowledgement waits for it.
      if (this.unsignalled.delete(sender)) this.rings[sender].signalConsumer()
    })
  }

  private fencePassed (message: Message): void {
    const control = readControl(message)
    if (control?.kind !== 'count') return
    const fence = this.unanswered.get(control.value)
    if (fence === undefined) return
    this.unanswered.delete(control.value)
    fence.pass()
  }

  /** Lets go of the fences of workers that died or have not answered in time (from the backstop). */
  private giveUpOnFences (): void {
    const now = performance.now()
    const late = new Set<number>()
    for (const fence of this.unanswered.values()) {
      const alive = this.workers.isAlive(fence.target)
      if (alive && now - fence.sentAt < FENCE_LIMIT_MS) continue
      if (alive) late.add(fence.target)
      this.unanswered.delete(fence.id)
      fence.pass()
    }
    for (const target of late) this.logger.warn('CLUSTER_FENCE_LATE', `worker ${target} has not confirmed within ${FENCE_LIMIT_MS} ms that it delivered record updates; acknowledging the writes anyway`)
  }

  /** Starts a queue for a full receiver and pumps it until it is empty or the receiver is gone. */
  private holdBack (target: number, bytes: Uint8Array): void {
    const queue = [bytes]
    this.backlog.set(target, queue)
    this.logger.warn('CLUSTER_BACKPRESSURE', `worker ${target}'s inbound ring is full; holding messages back`)
    void (async () => {
      const ring = this.rings[target]
      while (queue.length > 0 && !this.closed && this.workers.isAlive(target)) {
        while (queue.length > 0 && ring.tryWrite(queue[0])) queue.shift()
        if (queue.length > 0) await ring.waitForSpace(WAIT_MS)
      }
      this.backlog.delete(target)
    })()
  }

  deliverPending (): void {
    if (!this.closed) this.rings[this.index].drain((payload) => this.dispatch(payload), DRAIN_BATCH)
  }

  private async receive (): Promise<void> {
    const ring = this.rings[this.index]
    while (!this.closed) {
      const drained = ring.drain((payload) => this.dispatch(payload), DRAIN_BATCH)
      if (drained === DRAIN_BATCH) await new Promise((resolve) => setImmediate(resolve))
      else await ring.waitForData(Number.POSITIVE_INFINITY)
    }
  }

  private dispatch (payload: Uint8Array): void {
    try {
      const { channel, fromWorker, message, receivedAt, frames } = decodeEnvelope(payload)
      const handler = this.handlers.get(channel)
      if (handler === undefined) return
      handler(message, fromWorker === SUPERVISOR ? 'supervisor' : this.names[fromWorker] ?? workerName(this.base, fromWorker), receivedAt, frames ?? undefined)
    } catch (error) {
      this.logger.error('CLUSTER_MESSAGE_ERROR', `worker ${this.index} could not handle a cluster message: ${errorStack(error)}`)
    }
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.backstop !== null) clearInterval(this.backstop)
    for (const fence of [...this.gathering.values(), ...this.unanswered.values()]) fence.pass()
    this.gathering.clear()
    this.unanswered.clear()
    // Wake the receive loop so it sees `closed` at once.
    this.rings[this.index].wake()
    await this.receiving
  }
}

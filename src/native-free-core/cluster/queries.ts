/**
 * Ask every other node and gather their answers: the request/response
 * pattern on top of the cluster node's one-way messages (plugin API calls
 * that must reach every worker, such as closing a user's sessions).
 */
import type { ClusterNode } from '../plugins/cluster-node/cluster-node.js'
import type { ClusterRegistry } from '../plugins/cluster-registry/cluster-registry.js'
import type { Message } from '../protocol/message.js'
import { errorMessage } from '../errors.js'

interface Pending { answers: Message[], waiting: Set<string>, done: (answers: Message[]) => void, timer: NodeJS.Timeout }

export class ClusterQueries {
  private readonly pending = new Map<string, Pending>()
  private next = 1

  constructor (private readonly node: ClusterNode, private readonly registry: ClusterRegistry) {}

  /**
   * Answers `channel` questions from other nodes with `answer(message)`, at once or when its
   * promise settles; an answer that throws or rejects goes back with `isError` and the error's text.
   */
  answer (channel: string, answer: (message: Message) => Message | Promise<Message>): void {
    this.node.subscribe(channel, (message, from) => {
      const reply = (result: Message): void => this.node.sendDirect(from, `${channel}/answer`, { ...result, correlationId: message.correlationId })
      void Promise.resolve().then(() => answer(message)).then(reply, (error: unknown) => {
        reply({ topic: message.topic, action: message.action, isError: true, data: errorMessage(error) })
      })
    })
    this.node.subscribe(`${channel}/answer`, (message, from) => {
      const pending = this.pending.get(message.correlationId ?? '')
      if (pending === undefined || !pending.waiting.delete(from)) return
      pending.answers.push(message)
      if (pending.waiting.size === 0) this.settle(message.correlationId ?? '')
    })
  }

  /** Sends `message` to every other live node; resolves their answers (those that came within `timeoutMs`). */
  ask (channel: string, message: Message, timeoutMs = 2000): Promise<Message[]> {
    const others = this.registry.getAll().filter((name) => name !== this.node.serverName)
    if (others.length === 0) return Promise.resolve([])
    const correlationId = `${this.node.serverName}:${this.next++}`
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(correlationId), timeoutMs)
      this.pending.set(correlationId, { answers: [], waiting: new Set(others), done: resolve, timer })
      this.node.sendTo(others, channel, { ...message, correlationId })
    })
  }

  private settle (correlationId: string): void {
    const pending = this.pending.get(correlationId)
    if (pending === undefined) return
    this.pending.delete(correlationId)
    clearTimeout(pending.timer)
    pending.done(pending.answers)
  }

  close (): void {
    for (const id of [...this.pending.keys()]) this.settle(id)
  }
}

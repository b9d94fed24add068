/**
 * A socket with no connection behind it, for requests the server makes for someone who is not a
 * WebSocket client (a JIF item, a plugin's record write): it runs through the same processor and
 * handlers as a client's message and keeps the first reply that `answer` turns into a result.
 */
import { allocateSocketId, type Socket, type UserSession } from './socket.js'
import { jsonCodec } from '../protocol/json-codec.js'
import type { Message } from '../protocol/message.js'

export class ReplySocket<T> implements Socket {
  readonly id = allocateSocketId()
  readonly codec = jsonCodec
  isClosed = false
  /** The result, once a reply has settled it. */
  result: T | null = null
  readonly settled: Promise<T>
  private settle: ((result: T) => void) | null = null

  /**
   * `answer` turns a reply into the result, or null for replies that settle nothing (an RPC's
   * ACCEPT, an ack). A `trusted` socket (the plugin API's) passes every permission check.
   */
  constructor (
    readonly endpoint: string,
    readonly user: UserSession,
    private readonly answer: (reply: Message) => T | null,
    readonly trusted = false,
  ) {
    this.settled = new Promise((resolve) => { this.settle = resolve })
  }

  send (message: Message): void {
    if (this.result !== null) return
    const result = this.answer(message)
    if (result === null) return
    this.result = result
    this.settle?.(result)
  }

  sendFrame (): void {}
  close (): void { this.isClosed = true }
}

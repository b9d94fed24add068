/** Requests that the server acknowledges, and the shared helpers of the feature modules. */
import { actionName, isErrorMessage } from '../native-free-core/protocol/constants.js'
import type { Message } from '../native-free-core/protocol/message.js'
import type { Connection } from './connection.js'
import { parseData } from './connection.js'
import { ClientError } from './errors.js'

interface Pending {
  readonly action: number
  /** The name it is about, so that a per-name refusal finds it. */
  readonly key: string | undefined
  resolve (): void
  reject (error: Error): void
}

/**
 * Subscribe-style requests: the server acks `{topic, action, correlationId, isAck}`
 * or refuses a name with an error carrying `originalAction` and `name`.
 * Requests not yet acked when the connection drops are covered by the
 * module's `restore`, whose ack settles them all.
 */
export class AckTracker {
  private readonly pending = new Map<string, Pending>()
  /** Restore requests: their correlation id settles every older request of the same action. */
  private readonly restores = new Map<string, number>()

  constructor (private readonly connection: Connection) {}

  request (message: Message, key?: string): Promise<void> {
    const correlationId = this.connection.correlationId()
    return new Promise((resolve, reject) => {
      this.pending.set(correlationId, { action: message.action, key, resolve, reject })
      // Not queued offline: the module's restore sends it again after login.
      this.connection.send({ ...message, correlationId }, false)
    })
  }

  resend (message: Message): void {
    const correlationId = this.connection.correlationId()
    this.restores.set(correlationId, message.action)
    this.connection.send({ ...message, correlationId }, false)
  }

  /** Fails every request still waiting (the client was closed). */
  rejectAll (error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error)
    this.pending.clear()
    this.restores.clear()
  }

  /** Whether `message` answered a tracked request. */
  settle (message: Message): boolean {
    const id = message.correlationId
    if (message.isAck === true && id !== undefined) {
      const restored = this.restores.get(id)
      if (restored !== undefined) {
        this.restores.delete(id)
        for (const [key, pending] of this.pending) {
          if (pending.action === restored) {
            this.pending.delete(key)
            pending.resolve()
          }
        }
        return true
      }
      const pending = this.pending.get(id)
      if (pending === undefined) return false
      this.pending.delete(id)
      pending.resolve()
      return true
    }
    if (!isErrorMessage(message)) return false
    for (const [key, pending] of this.pending) {
      const sameName = message.name !== undefined && pending.key === message.name && pending.action === message.originalAction
      if (sameName || (id !== undefined && key === id)) {
        this.pending.delete(key)
        pending.reject(serverError(message))
        return true
      }
    }
    return false
  }
}

/** A value for the wire: bytes stay bytes, anything else becomes JSON text. */
export function encodeData (data: unknown): string | Uint8Array | undefined {
  if (data === undefined) return undefined
  if (data instanceof Uint8Array) return data
  return JSON.stringify(data)
}

/** A server error message as an Error whose code is the action's name. */
export function serverError (message: Message): ClientError {
  const code = actionName(message.topic, message.action)
  const about = message.name === undefined ? '' : ` for "${message.name}"`
  const detail = parseData(message.data)
  return new ClientError(code, `${code}${about}${typeof detail === 'string' ? `: ${detail}` : ''}`, detail)
}

/** A promise with its settle functions, for answers matched later. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve (value: T): void
  reject (error: Error): void
}

export function deferred<T> (): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** Settles and forgets every waiter for `name`; whether there was one. */
export function settleAll<W> (waiting: Map<string, W[]>, name: string, settle: (waiter: W) => void): boolean {
  const list = waiting.get(name)
  if (list === undefined) return false
  waiting.delete(name)
  for (const waiter of list) settle(waiter)
  return true
}

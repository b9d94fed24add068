/**
 * RPC: provide a name with a handler, make a request. A handler returns the
 * result (or a promise of it); throwing sends REQUEST_ERROR with the message.
 * Requests in flight when the connection drops reject with CONNECTION_LOST:
 * the server forgets a request whose requestor left, and running it twice
 * may not be safe. Providers are registered again after a reconnect.
 */
import { isErrorMessage, RPC_ACTION, TOPIC } from '../native-free-core/protocol/constants.js'
import type { Message } from '../native-free-core/protocol/message.js'
import type { Connection, TopicModule } from './connection.js'
import { parseData } from './connection.js'
import { AckTracker, deferred, encodeData, serverError, type Deferred } from './acks.js'
import { ClientError } from './errors.js'

/** Answers a request; its result (JSON value or bytes) is the response. */
export type RpcProvider = (data: unknown, request: { name: string, requestorName?: string }) => unknown

export class Rpc implements TopicModule {
  readonly topic = TOPIC.RPC
  private readonly providers = new Map<string, RpcProvider>()
  private readonly requests = new Map<string, Deferred<unknown>>()
  private readonly acks: AckTracker

  constructor (private readonly connection: Connection, private readonly onError: (error: Error) => void) {
    this.acks = new AckTracker(connection)
  }

  /** Serves `name`; resolves, with the function that stops serving, once the server routes requests here. */
  async provide (name: string, provider: RpcProvider): Promise<() => void> {
    if (this.providers.has(name)) throw new ClientError('MULTIPLE_PROVIDERS', `"${name}" is already provided by this client`)
    this.providers.set(name, provider)
    await this.acks.request({ topic: TOPIC.RPC, action: RPC_ACTION.PROVIDE, names: [name] }, name)
    return () => {
      if (this.providers.get(name) !== provider) return
      this.providers.delete(name)
      this.connection.send({ topic: TOPIC.RPC, action: RPC_ACTION.UNPROVIDE, names: [name], correlationId: this.connection.correlationId() }, false)
    }
  }

  /** Asks a provider of `name`; resolves with its response, rejects with its error or the server's. */
  make (name: string, data?: unknown): Promise<unknown> {
    const correlationId = this.connection.correlationId()
    const answer = deferred<unknown>()
    this.requests.set(correlationId, answer)
    this.connection.send({ topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name, correlationId, data: encodeData(data) })
    return answer.promise
  }

  handle (message: Message): void {
    switch (message.action) {
      case RPC_ACTION.REQUEST: void this.serve(message); return
      case RPC_ACTION.ACCEPT: return
      case RPC_ACTION.RESPONSE: this.settle(message, null); return
      case RPC_ACTION.REQUEST_ERROR: {
        const detail = parseData(message.data)
        this.settle(message, new ClientError('REQUEST_ERROR', typeof detail === 'string' ? detail : 'the provider failed', detail))
        return
      }
    }
    if (this.acks.settle(message)) return
    if (isErrorMessage(message)) {
      if (!this.requests.has(message.correlationId ?? '')) this.onError(serverError(message))
      else this.settle(message, serverError(message))
    }
  }

  private settle (message: Message, error: Error | null): void {
    const id = message.correlationId ?? ''
    const answer = this.requests.get(id)
    if (answer === undefined) return
    this.requests.delete(id)
    if (error === null) answer.resolve(parseData(message.data))
    else answer.reject(error)
  }

  private async serve (message: Message): Promise<void> {
    const { name = '', correlationId } = message
    const provider = this.providers.get(name)
    const reply = (action: number, data?: string | Uint8Array): void => {
      this.connection.send({ topic: TOPIC.RPC, action, name, correlationId, data }, false)
    }
    if (provider === undefined) {
      reply(RPC_ACTION.REJECT) // no longer provided here: the server asks another provider
      return
    }
    reply(RPC_ACTION.ACCEPT)
    try {
      const result = await provider(parseData(message.data), { name, requestorName: message.requestorName })
      reply(RPC_ACTION.RESPONSE, encodeData(result))
    } catch (error) {
      reply(RPC_ACTION.REQUEST_ERROR, JSON.stringify((error as Error)?.message ?? String(error)))
    }
  }

  restore (): void {
    const names = [...this.providers.keys()]
    if (names.length > 0) this.acks.resend({ topic: TOPIC.RPC, action: RPC_ACTION.PROVIDE, names })
  }

  onConnectionLost (): void {
    const error = this.connection.state === 'closed'
      ? new ClientError('CLIENT_CLOSED', 'the client was closed')
      : new ClientError('CONNECTION_LOST', 'the connection dropped before the response; the request may or may not have run')
    for (const answer of this.requests.values()) answer.reject(error)
    this.requests.clear()
    if (this.connection.state === 'closed') this.acks.rejectAll(error)
  }
}

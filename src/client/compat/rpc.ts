/**
 * `client.rpc` of @deepstream/client 7 over the native protocol. A provider gets the request's data
 * and a response to `send`, `error` or `reject` (reroute to another provider); the request is
 * accepted on its own at the end of the turn unless `autoAccept` is set false or the provider
 * answered first. `make` resolves with the response, or rejects with the provider's error or the
 * server's reason by name (NO_RPC_PROVIDER, ACCEPT_TIMEOUT, RESPONSE_TIMEOUT, MESSAGE_DENIED, …).
 */
import { actionName, isErrorMessage, RPC_ACTION, TOPIC } from '../../native-free-core/protocol/constants.js'
import type { Message } from '../../native-free-core/protocol/message.js'
import type { Connection, TopicModule } from '../connection.js'
import { parseData } from '../connection.js'
import { encodeData, serverError } from '../acks.js'
import { ClientError } from '../errors.js'
import { withCallback } from './callback-forms.js'

export interface RpcResponse {
  autoAccept: boolean
  accept (): void
  reject (): void
  error (error: unknown): void
  send (data: unknown): void
}
export type RpcProviderCallback = (data: unknown, response: RpcResponse, requestor?: { requestorName?: string, requestorData?: unknown }) => void
export type RpcMakeCallback = (error: unknown, result?: unknown) => void

interface Pending { resolve (result: unknown): void, reject (error: unknown): void }

export class CompatRpc implements TopicModule {
  readonly topic = TOPIC.RPC
  private readonly providers = new Map<string, RpcProviderCallback>()
  private readonly requests = new Map<string, Pending>()

  constructor (private readonly connection: Connection, private readonly onError: (error: Error) => void) {}

  providerNames (): string[] { return [...this.providers.keys()] }

  provide (name: string, callback: RpcProviderCallback): void {
    if (this.providers.has(name)) {
      this.onError(new ClientError('PROVIDER_EXISTS', `"${name}" is already provided by this client`))
      return
    }
    this.providers.set(name, callback)
    this.sendProviders(RPC_ACTION.PROVIDE, [name])
  }

  unprovide (name: string): void {
    if (!this.providers.delete(name)) {
      this.onError(new ClientError('NOT_PROVIDING', `"${name}" is not provided by this client`))
      return
    }
    this.sendProviders(RPC_ACTION.UNPROVIDE, [name])
  }

  make (name: string, data: unknown): Promise<unknown>
  make (name: string, data: unknown, callback: RpcMakeCallback): void
  make (name: string, data: unknown, callback?: RpcMakeCallback): Promise<unknown> | undefined {
    const correlationId = this.connection.correlationId()
    const answer = new Promise<unknown>((resolve, reject) => this.requests.set(correlationId, { resolve, reject }))
    this.connection.send({ topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name, correlationId, data: encodeData(data) })
    return withCallback(answer, callback)
  }

  handle (message: Message): void {
    if (message.action === RPC_ACTION.REQUEST) {
      this.serve(message)
      return
    }
    if (message.isAck === true || message.action === RPC_ACTION.ACCEPT) return
    const pending = this.requests.get(message.correlationId ?? '')
    if (pending !== undefined && message.originalAction !== RPC_ACTION.PROVIDE && message.originalAction !== RPC_ACTION.UNPROVIDE) {
      this.requests.delete(message.correlationId ?? '')
      if (message.action === RPC_ACTION.RESPONSE) pending.resolve(parseData(message.data))
      else if (message.action === RPC_ACTION.REQUEST_ERROR) pending.reject(parseData(message.data))
      else pending.reject(actionName(TOPIC.RPC, message.action))
      return
    }
    if (isErrorMessage(message) || message.action === RPC_ACTION.MULTIPLE_PROVIDERS) {
      // A provide the server refused: it is not provided here.
      if (message.originalAction === RPC_ACTION.PROVIDE && message.name !== undefined) this.providers.delete(message.name)
      this.onError(serverError(message))
    }
  }

  private serve (message: Message): void {
    const { name = '', correlationId } = message
    const reply = (action: number, data?: string | Uint8Array): void => {
      this.connection.send({ topic: TOPIC.RPC, action, name, correlationId, data }, false)
    }
    const provider = this.providers.get(name)
    if (provider === undefined) {
      reply(RPC_ACTION.REJECT) // no longer provided here: the server asks another provider
      return
    }
    let accepted = false
    let complete = false
    const finish = (): void => {
      if (complete) throw new ClientError('RPC_COMPLETED', `rpc ${name} already completed`)
      complete = true
    }
    const response: RpcResponse = {
      autoAccept: true,
      accept: () => {
        if (accepted) return
        accepted = true
        reply(RPC_ACTION.ACCEPT)
      },
      reject: () => {
        finish()
        accepted = true
        reply(RPC_ACTION.REJECT)
      },
      error: (error) => {
        finish()
        accepted = true
        reply(RPC_ACTION.REQUEST_ERROR, encodeData(error))
      },
      send: (data) => {
        finish()
        response.accept()
        reply(RPC_ACTION.RESPONSE, encodeData(data))
      },
    }
    queueMicrotask(() => { if (response.autoAccept && !complete) response.accept() })
    const requestor = message.requestorName !== undefined || message.requestorData !== undefined
      ? { requestorName: message.requestorName, requestorData: parseData(message.requestorData) }
      : undefined
    try {
      provider(parseData(message.data), response, requestor)
    } catch (error) {
      this.onError(error instanceof Error ? error : new ClientError('PROVIDER_FAILED', String(error)))
    }
  }

  private sendProviders (action: number, names: string[]): void {
    this.connection.send({ topic: TOPIC.RPC, action, names, correlationId: this.connection.correlationId() }, false)
  }

  restore (): void {
    if (this.providers.size > 0) this.sendProviders(RPC_ACTION.PROVIDE, [...this.providers.keys()])
  }

  onConnectionLost (): void {
    // As @deepstream/client: requests in flight when the connection drops fail; the server forgot them.
    for (const pending of this.requests.values()) pending.reject(this.connection.state === 'closed' ? 'CLIENT_CLOSED' : 'CONNECTION_LOST')
    this.requests.clear()
  }
}

/**
 * RPC (reference §1.5): providers register names; a request goes to a
 * random provider, a REJECT reroutes it to one not yet tried, and the
 * requestor hears ACCEPT, RESPONSE / REQUEST_ERROR, NO_RPC_PROVIDER or a
 * timeout. Requests are relayed under a server-assigned correlation id so
 * that two requestors' ids can never collide at a provider.
 */
import { RPC_ACTION, TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'
import type { Socket } from '../connection/socket.js'
import type { CoreServices, TopicHandler } from './services.js'
import type { SubscriptionRegistry } from '../plugins/subscription-registry/subscription-registry.js'
import { sendBulkAck, sendInvalid } from './bulk-subscriptions.js'

interface Rpc {
  readonly id: string
  readonly name: string
  readonly requestor: Socket
  readonly request: Message
  readonly tried: Set<Socket>
  provider: Socket
  accepted: boolean
  ackTimer: NodeJS.Timeout | null
  responseTimer: NodeJS.Timeout | null
}

export class RpcHandler implements TopicHandler {
  private readonly providers: SubscriptionRegistry
  private readonly rpcs = new Map<string, Rpc>()
  private nextId = 1

  constructor (private readonly services: CoreServices) {
    this.providers = services.subscriptions.getSubscriptionRegistry('rpc')
  }

  handle (socket: Socket, message: Message): void {
    switch (message.action) {
      case RPC_ACTION.PROVIDE: this.provide(socket, message); return
      case RPC_ACTION.UNPROVIDE: this.unprovide(socket, message); return
      case RPC_ACTION.REQUEST: this.request(socket, message); return
      case RPC_ACTION.ACCEPT:
      case RPC_ACTION.RESPONSE:
      case RPC_ACTION.REQUEST_ERROR:
      case RPC_ACTION.REJECT:
        this.fromProvider(socket, message)
        return
      default:
        sendInvalid(socket, message, `unknown rpc action ${message.action}`)
    }
  }

  private provide (socket: Socket, message: Message): void {
    for (const name of message.names ?? []) {
      if (!this.providers.subscribe(name, socket)) {
        socket.send({ topic: TOPIC.RPC, action: RPC_ACTION.MULTIPLE_PROVIDERS, originalAction: message.action, name, isError: true })
      }
    }
    sendBulkAck(socket, message)
  }

  private unprovide (socket: Socket, message: Message): void {
    for (const name of message.names ?? []) {
      if (!this.providers.unsubscribe(name, socket)) {
        socket.send({ topic: TOPIC.RPC, action: RPC_ACTION.NOT_PROVIDED, originalAction: message.action, name, isError: true })
      }
    }
    sendBulkAck(socket, message)
  }

  private request (socket: Socket, message: Message): void {
    const { name, correlationId } = message
    if (typeof name !== 'string' || typeof correlationId !== 'string') {
      sendInvalid(socket, message, 'a request needs name and correlationId')
      return
    }
    const rpc: Rpc = {
      id: `${this.nextId++}`,
      name,
      requestor: socket,
      request: message,
      tried: new Set(),
      provider: socket,
      accepted: false,
      ackTimer: null,
      responseTimer: null,
    }
    const { ackTimeout, responseTimeout } = this.services.config.rpc
    rpc.ackTimer = setTimeout(() => this.fail(rpc, RPC_ACTION.ACCEPT_TIMEOUT), ackTimeout)
    rpc.responseTimer = setTimeout(() => this.fail(rpc, RPC_ACTION.RESPONSE_TIMEOUT), responseTimeout)
    this.rpcs.set(rpc.id, rpc)
    this.route(rpc)
  }

  /** Sends the request to a provider not yet tried, or ends the rpc with NO_RPC_PROVIDER. */
  private route (rpc: Rpc): void {
    const untried = [...this.providers.getLocalSubscribers(rpc.name)].filter((p) => !rpc.tried.has(p) && !p.isClosed)
    if (untried.length === 0) {
      this.fail(rpc, RPC_ACTION.NO_RPC_PROVIDER)
      return
    }
    const provider = untried[Math.floor(Math.random() * untried.length)]
    rpc.provider = provider
    rpc.tried.add(provider)
    rpc.accepted = false
    const { provideRequestorName, provideRequestorData } = this.services.config.rpc
    const user = rpc.requestor.user
    provider.send({
      topic: TOPIC.RPC,
      action: RPC_ACTION.REQUEST,
      name: rpc.name,
      correlationId: rpc.id,
      data: rpc.request.data,
      requestorName: provideRequestorName ? user?.id : undefined,
      requestorData: provideRequestorData && user?.clientData !== undefined ? JSON.stringify(user?.clientData) : undefined,
    })
  }

  private fromProvider (socket: Socket, message: Message): void {
    const rpc = this.rpcs.get(message.correlationId ?? '')
    if (rpc === undefined || rpc.provider !== socket) {
      socket.send({ topic: TOPIC.RPC, action: RPC_ACTION.INVALID_RPC_CORRELATION_ID, originalAction: message.action, name: message.name, correlationId: message.correlationId, isError: true })
      return
    }
    const reply = { topic: TOPIC.RPC, name: rpc.name, correlationId: rpc.request.correlationId }
    switch (message.action) {
      case RPC_ACTION.ACCEPT:
        if (rpc.accepted) {
          socket.send({ topic: TOPIC.RPC, action: RPC_ACTION.MULTIPLE_ACCEPT, name: rpc.name, correlationId: rpc.id, isError: true })
          return
        }
        rpc.accepted = true
        if (rpc.ackTimer !== null) clearTimeout(rpc.ackTimer)
        rpc.ackTimer = null
        rpc.requestor.send({ ...reply, action: RPC_ACTION.ACCEPT })
        return
      case RPC_ACTION.REJECT:
        this.route(rpc)
        return
      default:
        this.finish(rpc)
        rpc.requestor.send({ ...reply, action: message.action, data: message.data })
    }
  }

  private fail (rpc: Rpc, action: number): void {
    if (!this.finish(rpc)) return
    rpc.requestor.send({ topic: TOPIC.RPC, action, name: rpc.name, correlationId: rpc.request.correlationId, isError: true })
  }

  private finish (rpc: Rpc): boolean {
    if (!this.rpcs.delete(rpc.id)) return false
    if (rpc.ackTimer !== null) clearTimeout(rpc.ackTimer)
    if (rpc.responseTimer !== null) clearTimeout(rpc.responseTimer)
    return true
  }

  onSocketClosed (socket: Socket): void {
    this.providers.removeSocket(socket)
    for (const rpc of [...this.rpcs.values()]) {
      if (rpc.requestor === socket) this.finish(rpc)
      else if (rpc.provider === socket) this.route(rpc)
    }
  }

  async close (): Promise<void> {
    for (const rpc of [...this.rpcs.values()]) this.finish(rpc)
  }
}

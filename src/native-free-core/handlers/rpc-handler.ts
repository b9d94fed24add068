/**
 * RPC: providers register names; a request goes to a
 * random provider, a REJECT reroutes it to one not yet tried, and the
 * requestor hears ACCEPT, RESPONSE / REQUEST_ERROR, NO_RPC_PROVIDER or a
 * timeout. Requests are relayed under a server-assigned id so that two
 * requestors' correlation ids can never collide at a provider.
 *
 * Across nodes (worker threads): the origin picks at random among its own
 * providers and the other nodes that have some; a request sent to another
 * node (`rpc/request`) is tried on that node's providers, which relays every
 * reply back (`rpc/reply`); a REJECT from it means all of its providers
 * refused, and the origin picks again among what is left. Timeouts run at
 * the origin only.
 */
import { RPC_ACTION, TOPIC } from '../protocol/constants.js'
import type { Message } from '../protocol/message.js'
import type { Socket } from '../connection/socket.js'
import type { CoreServices, TopicHandler } from './services.js'
import type { SubscriptionRegistry } from '../plugins/subscription-registry/subscription-registry.js'
import { sendBulkAck, sendInvalid, withinLimit } from './bulk-subscriptions.js'
import { Timeouts, type Timeout } from '../timeouts.js'

const REQUEST_CHANNEL = 'rpc/request'
const REPLY_CHANNEL = 'rpc/reply'

/** Who asked: a socket here, or another node relaying its requestor. */
type Origin = { socket: Socket, correlationId: string } | { node: string }

interface Rpc {
  readonly id: string
  readonly name: string
  readonly origin: Origin
  readonly data: Message['data']
  readonly requestorName: string | undefined
  readonly requestorData: string | undefined
  /** Local providers and nodes asked so far (null until the first). */
  tried: Set<Socket> | null
  triedNodes: Set<string> | null
  /** The local provider asked now, or null when a node is. */
  provider: Socket | null
  /** The node asked now, or null. */
  node: string | null
  accepted: boolean
  ackTimer: Timeout | null
  responseTimer: Timeout | null
}

export class RpcHandler implements TopicHandler {
  private readonly providers: SubscriptionRegistry
  private readonly rpcs = new Map<string, Rpc>()
  /** Ack and response timeouts: one timer per duration, not two per request. */
  private readonly timeouts = new Timeouts()
  private nextId = 1

  constructor (private readonly services: CoreServices) {
    this.providers = services.subscriptions.getSubscriptionRegistry('rpc')
    services.clusterNode.subscribe(REQUEST_CHANNEL, (message, from) => this.fromNode(message, from))
    services.clusterNode.subscribe(REPLY_CHANNEL, (message, from) => this.replyFromNode(message, from))
    services.clusterRegistry.onServerRemoved((node) => this.onNodeGone(node))
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
      if (!withinLimit(this.providers, socket, message, name)) continue
      if (!this.providers.subscribe(name, socket)) {
        socket.send({ topic: TOPIC.RPC, action: RPC_ACTION.MULTIPLE_PROVIDERS, originalAction: message.action, name })
      }
    }
    sendBulkAck(socket, message)
  }

  /** Unproviding a name that was not provided is only acked, as deepstream does. */
  private unprovide (socket: Socket, message: Message): void {
    for (const name of message.names ?? []) this.providers.unsubscribe(name, socket)
    sendBulkAck(socket, message)
  }

  private request (socket: Socket, message: Message): void {
    const { name, correlationId } = message
    if (typeof name !== 'string' || typeof correlationId !== 'string') {
      sendInvalid(socket, message, 'a request needs name and correlationId')
      return
    }
    const { provideRequestorName, provideRequestorData } = this.services.config.rpc
    const { timeouts } = this.services
    const user = socket.user
    const rpc = this.track(name, { socket, correlationId }, message.data,
      provideRequestorName ? user?.id : undefined,
      provideRequestorData && user?.clientData !== undefined ? JSON.stringify(user.clientData) : undefined)
    rpc.ackTimer = this.timeouts.set(timeouts.get('rpc.ackTimeout'), () => this.fail(rpc, RPC_ACTION.ACCEPT_TIMEOUT))
    rpc.responseTimer = this.timeouts.set(timeouts.get('rpc.responseTimeout'), () => this.fail(rpc, RPC_ACTION.RESPONSE_TIMEOUT))
    this.route(rpc)
  }

  private track (name: string, origin: Origin, data: Message['data'], requestorName: string | undefined, requestorData: string | undefined, id = `${this.services.clusterNode.serverName}:${this.nextId++}`): Rpc {
    const rpc: Rpc = {
      id, name, origin, data, requestorName, requestorData,
      tried: null, triedNodes: null, provider: null, node: null, accepted: false, ackTimer: null, responseTimer: null,
    }
    this.rpcs.set(id, rpc)
    return rpc
  }

  /**
   * Asks a provider not yet tried, chosen at random among this node's providers and (for a local
   * requestor) the other nodes that have some, one chance per local provider and per node, so
   * that the workers of a host share requests as one deepstream node's providers would. Gives up
   * when none is left: NO_RPC_PROVIDER to a local requestor, REJECT to the node that relayed it.
   */
  private route (rpc: Rpc): void {
    rpc.accepted = false
    rpc.provider = null
    rpc.node = null
    const untried: Socket[] = []
    for (const provider of this.providers.getLocalSubscribers(rpc.name)) if (!provider.isClosed && rpc.tried?.has(provider) !== true) untried.push(provider)
    const self = this.services.clusterNode.serverName
    const nodes = 'socket' in rpc.origin ? this.providers.nodesWith(rpc.name).filter((node) => node !== self && rpc.triedNodes?.has(node) !== true) : []
    const pick = Math.floor(Math.random() * (untried.length + nodes.length))
    const request: Message = { topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name: rpc.name, correlationId: rpc.id, data: rpc.data, requestorName: rpc.requestorName, requestorData: rpc.requestorData }
    if (pick < untried.length) {
      const provider = untried[pick]
      rpc.provider = provider
      ;(rpc.tried ??= new Set()).add(provider)
      provider.send(request)
      return
    }
    if (nodes.length > 0) {
      const node = nodes[pick - untried.length]
      rpc.node = node
      ;(rpc.triedNodes ??= new Set()).add(node)
      this.services.clusterNode.sendDirect(node, REQUEST_CHANNEL, request)
      return
    }
    if ('socket' in rpc.origin) {
      this.fail(rpc, RPC_ACTION.NO_RPC_PROVIDER)
      return
    }
    // Relayed here and every local provider refused: the origin tries elsewhere.
    this.finish(rpc)
    this.services.clusterNode.sendDirect(rpc.origin.node, REPLY_CHANNEL, { topic: TOPIC.RPC, action: RPC_ACTION.REJECT, name: rpc.name, correlationId: rpc.id })
  }

  private fromProvider (socket: Socket, message: Message): void {
    const rpc = this.rpcs.get(message.correlationId ?? '')
    if (rpc === undefined || rpc.provider !== socket) {
      socket.send({ topic: TOPIC.RPC, action: RPC_ACTION.INVALID_RPC_CORRELATION_ID, originalAction: message.action, name: message.name, correlationId: message.correlationId, isError: true })
      return
    }
    if (message.action === RPC_ACTION.ACCEPT && rpc.accepted) {
      socket.send({ topic: TOPIC.RPC, action: RPC_ACTION.MULTIPLE_ACCEPT, name: rpc.name, correlationId: rpc.id })
      return
    }
    if (message.action === RPC_ACTION.REJECT) {
      this.route(rpc)
      return
    }
    this.progress(rpc, message.action, message.data)
  }

  /** An ACCEPT, RESPONSE or REQUEST_ERROR for `rpc`, from a local provider or a node. */
  private progress (rpc: Rpc, action: number, data: Message['data']): void {
    if (action === RPC_ACTION.ACCEPT) {
      rpc.accepted = true
      this.timeouts.clear(rpc.ackTimer)
      rpc.ackTimer = null
      this.reply(rpc, RPC_ACTION.ACCEPT)
      return
    }
    this.finish(rpc)
    this.reply(rpc, action, data)
  }

  /**
   * Sends `action` (with `data`, if any) to whoever asked: the requestor with its own correlation
   * id, or the origin node with the rpc id. One literal, not a spread: a spread plus a property
   * takes V8's slow path of defining it (5% of a worker's time in the RPC bench on 2 workers).
   */
  private reply (rpc: Rpc, action: number, data?: Message['data']): void {
    const { origin } = rpc
    const local = 'socket' in origin
    const message: Message = { topic: TOPIC.RPC, action, name: rpc.name, data, correlationId: local ? origin.correlationId : rpc.id }
    if (local) origin.socket.send(message)
    else this.services.clusterNode.sendDirect(origin.node, REPLY_CHANNEL, message)
  }

  /** Another node relays a request to our providers. */
  private fromNode (message: Message, from: string): void {
    if (message.name === undefined || message.correlationId === undefined) return
    const rpc = this.track(message.name, { node: from }, message.data, message.requestorName, message.requestorData, message.correlationId)
    // The origin times the request out; this only forgets it by then.
    rpc.responseTimer = this.timeouts.set(this.services.timeouts.get('rpc.responseTimeout'), () => this.finish(rpc))
    this.route(rpc)
  }

  /** A node we asked relays a provider's reply. */
  private replyFromNode (message: Message, from: string): void {
    const rpc = this.rpcs.get(message.correlationId ?? '')
    if (rpc === undefined || rpc.node !== from) return
    if (message.action === RPC_ACTION.REJECT) this.route(rpc)
    else this.progress(rpc, message.action, message.data)
  }

  private onNodeGone (node: string): void {
    for (const rpc of [...this.rpcs.values()]) {
      if (rpc.node === node) this.route(rpc)
      else if ('node' in rpc.origin && rpc.origin.node === node) this.finish(rpc)
    }
  }

  private fail (rpc: Rpc, action: number): void {
    if (!this.finish(rpc)) return
    // Without isError on the wire, as deepstream sends NO_RPC_PROVIDER and the timeouts.
    this.reply(rpc, action)
  }

  private finish (rpc: Rpc): boolean {
    if (!this.rpcs.delete(rpc.id)) return false
    this.timeouts.clear(rpc.ackTimer)
    this.timeouts.clear(rpc.responseTimer)
    return true
  }

  onSocketClosed (socket: Socket): void {
    this.providers.removeSocket(socket)
    for (const rpc of [...this.rpcs.values()]) {
      if ('socket' in rpc.origin && rpc.origin.socket === socket) this.finish(rpc)
      else if (rpc.provider === socket) this.route(rpc)
    }
  }

  async close (): Promise<void> {
    for (const rpc of [...this.rpcs.values()]) this.finish(rpc)
    this.timeouts.close()
  }
}

/**
 * The load generator's Socket.IO client (socket.io-client 4.8, WebSocket
 * transport only) with the surface the load worker uses: deepstream event
 * messages in (`send`) and out (`onMessage`), mapped onto the bench's
 * Socket.IO server (socketio-server.ts): `sub` joins rooms, `emit` sends to
 * a room, `e` delivers. Events only.
 */
import { io, type Socket } from 'socket.io-client'
import { EVENT_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import type { Message } from '../../src/native-free-core/protocol/message.js'

export class SocketIoClient {
  onMessage: (message: Message) => void = () => {}
  /** socket.io-client hands out decoded events, not frames: bytes are not counted. */
  readonly bytesReceived = 0

  private constructor (private readonly socket: Socket) {
    socket.on('e', (name: string, data: string) => this.onMessage({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, data }))
  }

  static async login (port: number): Promise<SocketIoClient> {
    const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('connect_error', reject)
    })
    return new SocketIoClient(socket)
  }

  send (message: Message): void {
    if (message.topic === TOPIC.EVENT && message.action === EVENT_ACTION.SUBSCRIBE) this.socket.emit('sub', message.names ?? [])
    else if (message.topic === TOPIC.EVENT && message.action === EVENT_ACTION.EMIT) this.socket.emit('emit', message.name, message.data)
    else throw new Error(`the Socket.IO bench client sends event subscriptions and emits only, not topic ${message.topic} action ${message.action}`)
  }

  /** A subscription, resolved once the server has joined the rooms (its acknowledgement). */
  async request (message: Message, timeoutMs = 30_000): Promise<void> {
    if (message.topic !== TOPIC.EVENT || message.action !== EVENT_ACTION.SUBSCRIBE) {
      throw new Error(`the Socket.IO bench client requests event subscriptions only, not topic ${message.topic} action ${message.action}`)
    }
    await this.socket.timeout(timeoutMs).emitWithAck('sub', message.names ?? [])
  }

  close (): Promise<void> {
    this.socket.close()
    return Promise.resolve()
  }
}

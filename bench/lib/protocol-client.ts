/**
 * A lean client for load generation over either protocol riptide serves:
 * deepstream's protobuf (`/deepstream`, one message per frame) or riptide's
 * native FlatBuffers (`/riptide`, what one turn sends leaves as one frame, as
 * riptide/client does). One WebSocket, the handshake and login, then raw
 * messages in and out. No records, no reconnection, no timers: the load
 * generator owns pacing.
 */
import WebSocket from 'ws'
import { decodeProtobuf, encodeProtobuf } from '../../src/native-free-core/protocol/protobuf-codec.js'
import { decodeNativeFrame, encodeNative, FrameQueue, NATIVE_PATH, NATIVE_PROTOCOL_VERSION } from '../../src/native-free-core/protocol/native-codec.js'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import type { Message } from '../../src/native-free-core/protocol/message.js'

export type WireProtocol = 'protobuf' | 'native'

export class ProtocolClient {
  /** Called for every message after login. */
  onMessage: (message: Message) => void = () => {}
  /** When set, called for every frame after login instead of decoding it (cheap counting; see decode). */
  onFrame: ((frame: Buffer) => void) | null = null
  /** Bytes received in frames after login. */
  bytesReceived = 0
  private readonly outbox = new FrameQueue()
  /** While set, every message goes here first (login, and requests awaiting their acknowledgement). */
  private intercept: ((message: Message) => void) | null = null

  private constructor (private readonly ws: WebSocket, readonly protocol: WireProtocol) {}

  /** Connects to ws://host:port/deepstream (or /riptide), challenges and logs in with `auth`. */
  static async login (port: number, auth: Record<string, unknown> = {}, host = '127.0.0.1', protocol: WireProtocol = 'protobuf'): Promise<ProtocolClient> {
    const address = `ws://${host}:${port}${protocol === 'native' ? NATIVE_PATH : '/deepstream'}`
    const ws = new WebSocket(address, { perMessageDeflate: false })
    const client = new ProtocolClient(ws, protocol)
    let loggedIn = false
    ws.on('message', (data: Buffer) => {
      if (loggedIn) client.bytesReceived += data.byteLength
      if (client.intercept === null && client.onFrame !== null) {
        client.onFrame(data)
        return
      }
      for (const message of client.decode(data)) {
        if (client.intercept !== null) client.intercept(message)
        else client.onMessage(message)
      }
    })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const expect = (match: (message: Message) => boolean, what: string): Promise<void> => new Promise((resolve, reject) => {
      client.intercept = (message) => {
        if (match(message)) resolve()
        else reject(new Error(`${what}: unexpected ${JSON.stringify(message)}`))
      }
    })
    const accepted = expect((m) => m.topic === TOPIC.CONNECTION && m.action === CONNECTION_ACTION.ACCEPT, 'challenge')
    client.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: address, protocolVersion: protocol === 'native' ? NATIVE_PROTOCOL_VERSION : undefined })
    await accepted
    const authenticated = expect((m) => m.topic === TOPIC.AUTH && m.action === AUTH_ACTION.AUTH_SUCCESSFUL, 'login')
    client.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: JSON.stringify(auth) })
    await authenticated
    client.intercept = null
    loggedIn = true
    return client
  }

  /**
   * Sends `message` (a subscription, a provide: anything the server acknowledges by its
   * correlation id) and resolves on that acknowledgement; any other reply with its correlation id
   * (a denial, an error) rejects. Messages that arrive meanwhile go to `onMessage`; frames are
   * decoded for the wait, whatever `onFrame` says. One request at a time.
   */
  request (message: Message & { correlationId: string }, timeoutMs = 30_000): Promise<void> {
    if (this.intercept !== null) return Promise.reject(new Error('a request is already waiting for its acknowledgement'))
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer)
        this.intercept = null
        if (error === undefined) resolve()
        else reject(error)
      }
      const timer = setTimeout(() => done(new Error(`no acknowledgement of ${JSON.stringify(message)} within ${timeoutMs} ms`)), timeoutMs)
      this.intercept = (reply) => {
        if (reply.correlationId !== message.correlationId) this.onMessage(reply)
        else if (reply.isAck === true) done()
        else done(new Error(`${JSON.stringify(message)} refused: ${JSON.stringify(reply)}`))
      }
      this.send(message)
    })
  }

  /** Every message of a frame. */
  decode (frame: Buffer): Message[] {
    const bytes = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength)
    return this.protocol === 'native' ? decodeNativeFrame(bytes) : [decodeProtobuf(bytes)]
  }

  encode (message: Message): Uint8Array {
    return this.protocol === 'native' ? encodeNative(message) : encodeProtobuf(message)
  }

  send (message: Message): void {
    this.sendFrame(this.encode(message))
  }

  /** Sends bytes encoded beforehand with this client's protocol; native ones leave together at the end of the turn. */
  sendFrame (frame: Uint8Array): void {
    if (this.protocol === 'protobuf') {
      this.ws.send(frame)
      return
    }
    if (this.outbox.push(frame)) queueMicrotask(() => this.flush())
  }

  private flush (): void {
    const frame = this.outbox.take()
    if (frame !== null && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame)
  }

  close (): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) resolve()
      else {
        this.ws.once('close', () => resolve())
        this.ws.close()
      }
    })
  }
}

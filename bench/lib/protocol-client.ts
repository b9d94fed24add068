/**
 * A lean deepstream protobuf client for load generation: one WebSocket, the
 * handshake and login, then raw messages in and a callback per message out.
 * No records, no reconnection, no timers: the load generator owns pacing.
 */
import WebSocket from 'ws'
import { decodeProtobuf, encodeProtobuf } from '../../src/native-free-core/protocol/protobuf-codec.js'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import type { Message } from '../../src/native-free-core/protocol/message.js'

export class ProtocolClient {
  /** Called for every message after login. */
  onMessage: (message: Message) => void = () => {}
  /** When set, called for every frame after login instead of decoding it (cheap counting). */
  onFrame: ((frame: Buffer) => void) | null = null

  private constructor (private readonly ws: WebSocket) {}

  /** Connects to ws://host:port/deepstream, challenges and logs in with `auth`. */
  static async login (port: number, auth: Record<string, unknown> = {}, host = '127.0.0.1'): Promise<ProtocolClient> {
    const address = `ws://${host}:${port}/deepstream`
    const ws = new WebSocket(address, { perMessageDeflate: false })
    const client = new ProtocolClient(ws)
    let step: ((message: Message) => void) | null = null
    ws.on('message', (data: Buffer) => {
      if (step === null && client.onFrame !== null) {
        client.onFrame(data)
        return
      }
      const message = decodeProtobuf(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      if (step !== null) step(message)
      else client.onMessage(message)
    })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const expect = (match: (message: Message) => boolean, what: string): Promise<void> => new Promise((resolve, reject) => {
      step = (message) => {
        if (match(message)) resolve()
        else reject(new Error(`${what}: unexpected ${JSON.stringify(message)}`))
      }
    })
    const accepted = expect((m) => m.topic === TOPIC.CONNECTION && m.action === CONNECTION_ACTION.ACCEPT, 'challenge')
    client.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: address })
    await accepted
    const loggedIn = expect((m) => m.topic === TOPIC.AUTH && m.action === AUTH_ACTION.AUTH_SUCCESSFUL, 'login')
    client.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: JSON.stringify(auth) })
    await loggedIn
    step = null
    return client
  }

  send (message: Message): void {
    this.ws.send(encodeProtobuf(message))
  }

  /** Sends bytes encoded once beforehand. */
  sendFrame (frame: Uint8Array): void {
    this.ws.send(frame)
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

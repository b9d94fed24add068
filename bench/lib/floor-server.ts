/**
 * The floor: the least a deepstream-compatible server on uWebSockets.js must do in JavaScript for
 * the bench's workloads, on one thread, with no plugin, permission, storage, cluster or
 * monitoring. It logs every socket in, relays an emit as it came to the name's uWS topic (uWS
 * writes it to every subscriber in C++), relays an RPC request to the one provider and its replies
 * back by correlation id, and keeps records in a Map, publishing each update and acknowledging it.
 * Publishes, and the acknowledgements that follow them, wait for the end of the event-loop
 * iteration: inside a message callback uWS writes a published frame to each member at once, where
 * frames published together go out as one write per member (riptide does the same).
 * What a server spends per message beyond this is what its features cost; a goal that asks for
 * less CPU per message than this is out of reach of any server built this way on this machine.
 *
 *   node dist/bench/lib/floor-server.js    (prints `listening <port>`)
 */
import type * as UWS from 'uWebSockets.js'
import { loadNativeUws } from '../../src/native-adapters/http/uws-native.js'
import { AUTH_ACTION, CONNECTION_ACTION, EVENT_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { decodeProtobuf, encodeProtobuf } from '../../src/native-free-core/protocol/protobuf-codec.js'
import { copyBytes } from '../../src/native-free-core/protocol/binary-data.js'
import type { Message } from '../../src/native-free-core/protocol/message.js'

// A floor on uWS's JS fallback (Node lines without its binary) would measure nothing: refuse, saying why.
const uws = loadNativeUws()
type Socket = UWS.WebSocket<{ closed?: boolean }>

const app = uws.App()
let provider: Socket | null = null
const requesters = new Map<string, Socket>()
const records = new Map<string, { version: number, data: string }>()

function send (ws: Socket, message: Message): void { ws.send(encodeProtobuf(message), true) }

/** This iteration's publishes and the acknowledgements behind them, in order. */
let later: Array<() => void> = []

function atEndOfIteration (): void {
  const waiting = later
  later = []
  for (const run of waiting) run()
}

function soon (run: () => void): void {
  if (later.length === 0) setImmediate(atEndOfIteration)
  later.push(run)
}

function onMessage (ws: Socket, frame: ArrayBuffer): void {
  const message = decodeProtobuf(new Uint8Array(frame))
  const { topic, action, name = '', correlationId = '' } = message
  if (topic === TOPIC.EVENT && action === EVENT_ACTION.EMIT) {
    // uWS's ws.publish (all subscribers but the sender) needs the sender to be a subscriber of some topic.
    const channel = `e/${name}`
    const copy = copyBytes(new Uint8Array(frame)) // uWS reuses `frame` once this callback returns
    soon(() => {
      if (ws.getUserData().closed !== true && ws.isSubscribed(channel)) ws.publish(channel, copy, true)
      else app.publish(channel, copy, true)
    })
  } else if (topic === TOPIC.RPC && action === RPC_ACTION.REQUEST) {
    requesters.set(correlationId, ws)
    provider?.send(frame, true)
  } else if (topic === TOPIC.RPC && (action === RPC_ACTION.ACCEPT || action === RPC_ACTION.RESPONSE)) {
    const requester = requesters.get(correlationId)
    if (action === RPC_ACTION.RESPONSE) requesters.delete(correlationId)
    requester?.send(frame, true)
  } else if (topic === TOPIC.RECORD && action === RECORD_ACTION.CREATEANDUPDATE) {
    const record = records.get(name) ?? { version: 0, data: '{}' }
    record.version++
    record.data = String(message.data)
    records.set(name, record)
    const update = encodeProtobuf({ topic, action: RECORD_ACTION.UPDATE, name, version: record.version, data: record.data })
    soon(() => {
      app.publish(`r/${name}`, update, true)
      if (message.isWriteAck === true && ws.getUserData().closed !== true) send(ws, { topic, action: RECORD_ACTION.WRITE_ACKNOWLEDGEMENT, name, correlationId, isWriteAck: true })
    })
  } else if (topic === TOPIC.RECORD && action === RECORD_ACTION.SUBSCRIBECREATEANDREAD) {
    send(ws, { topic, action, correlationId, isAck: true })
    for (const each of message.names ?? []) {
      ws.subscribe(`r/${each}`)
      const record = records.get(each) ?? { version: 0, data: '{}' }
      send(ws, { topic, action: RECORD_ACTION.READ_RESPONSE, name: each, version: record.version, data: record.data })
    }
  } else if (topic === TOPIC.EVENT && action === EVENT_ACTION.SUBSCRIBE) {
    for (const each of message.names ?? []) ws.subscribe(`e/${each}`)
    send(ws, { topic, action, correlationId, isAck: true })
  } else if (topic === TOPIC.RPC && action === RPC_ACTION.PROVIDE) {
    provider = ws
    send(ws, { topic, action, correlationId, isAck: true })
  } else if (topic === TOPIC.CONNECTION && action === CONNECTION_ACTION.CHALLENGE) {
    send(ws, { topic, action: CONNECTION_ACTION.ACCEPT })
  } else if (topic === TOPIC.AUTH && action === AUTH_ACTION.REQUEST) {
    send(ws, { topic, action: AUTH_ACTION.AUTH_SUCCESSFUL })
  }
}

app.ws<{ closed?: boolean }>('/deepstream', {
  compression: uws.DISABLED,
  maxPayloadLength: 1 << 20,
  idleTimeout: 0,
  message: (ws, frame) => onMessage(ws, frame),
  close: (ws) => {
    ws.getUserData().closed = true
    if (ws === provider) provider = null
  },
})
app.listen('127.0.0.1', 0, (listenSocket) => {
  if (listenSocket === false) throw new Error('floor server: cannot listen')
  console.log(`listening ${uws.us_socket_local_port(listenSocket as unknown as Parameters<typeof uws.us_socket_local_port>[0])}`)
})
process.on('SIGTERM', () => process.exit(0))

/**
 * What one turn sends a socket leaves together: a native socket's messages as one frame (tested in
 * native-protocol.test.ts), other sockets' frames in one corked write, in order, before any close.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ClientSocket } from '../src/native-free-core/connection/client-socket.js'
import type { Transport } from '../src/native-free-core/connection/transport.js'
import { protobufCodec, decodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'
import { NoopMonitoring } from '../src/native-free-core/plugins/monitoring/monitoring.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { RiptideClient } from 'riptide/client'
import { eventually, oneWorker, RawClient, startTestServer, url, type TestServer } from './helpers.js'

/** A transport that keeps what the socket handed it, call by call. */
function recordingTransport (): { transport: Transport, calls: Array<{ kind: string, frames: number[] }> } {
  const calls: Array<{ kind: string, frames: number[] }> = []
  const version = (frame: Uint8Array | string): number => decodeProtobuf(frame as Uint8Array).version ?? -1
  return {
    calls,
    transport: {
      send: (frame) => { calls.push({ kind: 'send', frames: [version(frame)] }); return true },
      sendMany: (frames) => { calls.push({ kind: 'sendMany', frames: frames.map(version) }); return true },
      close: () => { calls.push({ kind: 'close', frames: [] }) },
      bufferedAmount: () => 0,
    },
  }
}

describe('a socket\'s writes in one turn', () => {
  const handshake = { remoteAddress: '127.0.0.1', headers: {}, referer: '' }
  const update = (version: number) => ({ topic: TOPIC.RECORD, action: 18, name: 'r', version, data: '{}' })

  it('hands the transport one batch, in order, after the turn', async () => {
    const { transport, calls } = recordingTransport()
    const socket = new ClientSocket(protobufCodec, 'ws-binary', transport, handshake, new NoopMonitoring())
    for (let version = 1; version <= 3; version++) socket.send(update(version))
    expect(calls).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toEqual([{ kind: 'sendMany', frames: [1, 2, 3] }])
  })

  it('writes what was queued before a close', () => {
    const { transport, calls } = recordingTransport()
    const socket = new ClientSocket(protobufCodec, 'ws-binary', transport, handshake, new NoopMonitoring())
    socket.send(update(1))
    socket.send(update(2))
    socket.close('done')
    expect(calls).toEqual([{ kind: 'sendMany', frames: [1, 2] }, { kind: 'close', frames: [] }])
  })
})

describe('many messages to a protobuf socket in one turn, through the server', () => {
  let server: TestServer
  const clients: Array<{ close: () => void }> = []
  beforeAll(async () => { server = await startTestServer() })
  afterEach(() => { for (const client of clients.splice(0)) client.close() })
  afterAll(async () => { await server.close() })

  it('arrive complete and in order', async () => {
    const subscriber = await RawClient.login(oneWorker(server))
    clients.push(subscriber)
    subscriber.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['burst'], correlationId: '1' })
    await subscriber.next((m) => m.isAck === true)
    const publisher = new RiptideClient(url(oneWorker(server), '/riptide'))
    clients.push(publisher)
    await publisher.login({ username: 'burst' })
    // One turn, one native frame, 50 emits: the subscriber's socket gets 50 protobuf frames at once.
    for (let i = 0; i < 50; i++) publisher.event.emit('burst', i)
    await eventually(() => expect(subscriber.received.filter((m) => m.name === 'burst')).toHaveLength(50))
    expect(subscriber.received.filter((m) => m.name === 'burst').map((m) => JSON.parse(m.data as string))).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })
})

/**
 * Fan-out through the adapter's topics (uWS publish): sockets whose adapter publishes join one
 * topic per codec and get a message from one publish, the sender left out by the adapter; the
 * others are sent each frame. Both leave at the end of the loop iteration, in the order they were
 * sent and published.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ClientSocket } from '../src/native-free-core/connection/client-socket.js'
import type { TopicHub, Transport } from '../src/native-free-core/connection/transport.js'
import { LocalSubscriptionRegistryFactory } from '../src/native-free-core/plugins/subscription-registry/local-subscription-registry.js'
import { LocalStateRegistryFactory } from '../src/native-free-core/plugins/state-registry/local-state-registry.js'
import { SingleClusterNode } from '../src/native-free-core/plugins/cluster-node/single-cluster-node.js'
import { NoopMonitoring } from '../src/native-free-core/plugins/monitoring/monitoring.js'
import { protobufCodec } from '../src/native-free-core/protocol/protobuf-codec.js'
import { jsonCodec } from '../src/native-free-core/protocol/json-codec.js'
import { nativeCodec } from '../src/native-free-core/protocol/native-codec.js'
import type { Codec, Message } from '../src/native-free-core/protocol/message.js'
import type { EncodedFrames } from '../src/native-free-core/plugins/cluster-node/cluster-node.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { DeepstreamClient } from '@deepstream/client'
import { connect, startTestServer, type TestServer } from './helpers.js'

/** What the fake adapter was asked to do, in order. */
type Call = string

function fakeAdapter (): { log: Call[], socket: (id: string, codec: Codec) => ClientSocket } {
  const log: Call[] = []
  const hub: TopicHub = { publish: (topic) => { log.push(`publish ${topic}`) } }
  const handshake = { remoteAddress: '127.0.0.1', headers: {}, referer: '' }
  return {
    log,
    socket: (id, codec) => {
      const transport: Transport = {
        send: () => { log.push(`send ${id}`); return true },
        sendMany: () => { log.push(`send ${id}`); return true },
        close: () => {},
        bufferedAmount: () => 0,
        topics: {
          hub,
          join: (topic) => { log.push(`${id} joins ${topic}`) },
          leave: (topic) => { log.push(`${id} leaves ${topic}`) },
          publishFromHere: (topic) => { log.push(`publish ${topic} from ${id}`) },
        },
      }
      return new ClientSocket(codec, 'test', transport, handshake, new NoopMonitoring())
    },
  }
}

function registry (): ReturnType<LocalSubscriptionRegistryFactory['getSubscriptionRegistry']> {
  return new LocalSubscriptionRegistryFactory({ state: new LocalStateRegistryFactory(), cluster: new SingleClusterNode('s'), monitoring: new NoopMonitoring() }).getSubscriptionRegistry('event')
}

const emit = { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'n', data: '1' }

/** What a loop iteration publishes and sends leaves in an immediate: this one runs after it. */
const endOfIteration = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('fan-out through adapter topics', () => {
  it('publishes once per codec, leaves the sender out, and sends a concatenating codec each frame', async () => {
    const { log, socket } = fakeAdapter()
    const events = registry()
    const a = socket('a', protobufCodec)
    const b = socket('b', protobufCodec)
    const c = socket('c', jsonCodec)
    const d = socket('d', nativeCodec)
    for (const s of [a, b, c, d]) events.subscribe('n', s)
    expect(log).toEqual(['a joins event/0/n', 'b joins event/0/n', 'c joins event/1/n'])
    log.length = 0

    expect(events.sendToLocalSubscribers('n', emit, a)).toBe(3)
    // Publishes and frames leave together at the end of the loop iteration.
    expect(log).toEqual([])
    await endOfIteration()
    expect(log).toEqual(['publish event/0/n from a', 'publish event/1/n', 'send d'])
    log.length = 0

    expect(events.sendToLocalSubscribers('n', emit, d)).toBe(3)
    await endOfIteration()
    expect(log).toEqual(['publish event/0/n', 'publish event/1/n'])
    log.length = 0

    expect(events.removeSocket(b)).toEqual(['n'])
    events.unsubscribe('n', c)
    events.unsubscribe('n', d)
    expect(log).toEqual(['b leaves event/0/n', 'c leaves event/1/n'])
    expect(events.sendToLocalSubscribers('n', emit, a)).toBe(0)
  })

  it('hands the adapter a turn\'s publishes together, after the loop iteration\'s callbacks', async () => {
    const { log, socket } = fakeAdapter()
    const events = registry()
    events.subscribe('n', socket('a', protobufCodec))
    log.length = 0
    for (let i = 0; i < 3; i++) events.sendToLocalSubscribers('n', emit, null)
    expect(log).toEqual([])
    await endOfIteration()
    expect(log).toEqual(['publish event/0/n', 'publish event/0/n', 'publish event/0/n'])
  })

  it('keeps the order of what a turn sends and publishes to a socket', async () => {
    const { log, socket } = fakeAdapter()
    const events = registry()
    const a = socket('a', protobufCodec)
    events.subscribe('n', a)
    log.length = 0
    const ack = { topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, name: 'n', isAck: true }
    a.send(ack)
    events.sendToLocalSubscribers('n', emit, null)
    a.send(ack)
    events.sendToLocalSubscribers('n', emit, null)
    a.send(ack)
    await endOfIteration()
    expect(log).toEqual(['send a', 'publish event/0/n', 'send a', 'publish event/0/n', 'send a'])
  })

  it('hands the adapter what was published before a socket joins or leaves the topic', async () => {
    const { log, socket } = fakeAdapter()
    const events = registry()
    const a = socket('a', protobufCodec)
    const b = socket('b', protobufCodec)
    events.subscribe('n', a)
    log.length = 0
    events.sendToLocalSubscribers('n', emit, null)
    events.subscribe('n', b)
    events.sendToLocalSubscribers('n', emit, null)
    events.unsubscribe('n', a)
    await endOfIteration()
    expect(log).toEqual(['publish event/0/n', 'b joins event/0/n', 'publish event/0/n', 'a leaves event/0/n'])
  })

  it('sends a closing socket what was published to it first', () => {
    const { log, socket } = fakeAdapter()
    const events = registry()
    const a = socket('a', protobufCodec)
    events.subscribe('n', a)
    log.length = 0
    events.sendToLocalSubscribers('n', emit, null)
    a.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, name: 'n', isAck: true })
    a.close()
    expect(log).toEqual(['publish event/0/n', 'send a'])
  })
})

describe('frames that cross between workers', () => {
  it('offers the frames it encoded to the other nodes, and sends a receiver the frames it is given', async () => {
    const offered: Array<ReadonlyArray<unknown>> = []
    class RecordingNode extends SingleClusterNode {
      override send (_channel: string, _message: Message, frames?: EncodedFrames): void { offered.push([...frames ?? []]) }
    }
    const published: Array<Uint8Array | string> = []
    const sent: unknown[] = []
    const handshake = { remoteAddress: '127.0.0.1', headers: {}, referer: '' }
    const hub: TopicHub = { publish: (_topic, frame) => { published.push(frame) } }
    const socket = (codec: Codec, topics: boolean): ClientSocket => new ClientSocket(codec, 'test', {
      send: (frame) => { sent.push(frame); return true },
      sendMany: (frames) => { sent.push(...frames); return true },
      close: () => {},
      bufferedAmount: () => 0,
      topics: topics ? { hub, join: () => {}, leave: () => {}, publishFromHere: (_topic, frame) => { published.push(frame) } } : undefined,
    }, handshake, new NoopMonitoring())
    const events = new LocalSubscriptionRegistryFactory({ state: new LocalStateRegistryFactory(), cluster: new RecordingNode('s'), monitoring: new NoopMonitoring() }).getSubscriptionRegistry('event')
    events.subscribe('n', socket(protobufCodec, true))
    events.subscribe('n', socket(nativeCodec, false))

    // The sender: what it encoded for its own subscribers goes with the message.
    events.publish('n', emit, null)
    expect(offered).toHaveLength(1)
    expect(offered[0][protobufCodec.index]).toEqual(protobufCodec.encode(emit))
    expect(offered[0][nativeCodec.index]).toEqual(nativeCodec.encode(emit))
    expect(offered[0][jsonCodec.index]).toBeUndefined()

    await endOfIteration()
    expect(sent).toEqual([nativeCodec.encode(emit)])

    // A receiver: the bytes it is given reach its subscribers as they are, not encoded again.
    published.length = 0
    sent.length = 0
    const protobufBytes = Uint8Array.of(1, 2, 3)
    const nativeBytes = Uint8Array.of(4, 5, 6)
    const frames: Array<Uint8Array | undefined> = []
    frames[protobufCodec.index] = protobufBytes
    frames[nativeCodec.index] = nativeBytes
    expect(events.sendToLocalSubscribers('n', emit, null, frames)).toBe(2)
    await endOfIteration()
    expect(published).toEqual([protobufBytes])
    expect(sent.map((frame) => [...(frame as Uint8Array)])).toEqual([[4, 5, 6]])
    // And nothing of them stays behind for the next message.
    published.length = 0
    events.sendToLocalSubscribers('n', emit, null)
    await endOfIteration()
    expect(published).toEqual([protobufCodec.encode(emit)])
  })
})

describe('fan-out through uWS topics, end to end', () => {
  let server: TestServer
  const clients: DeepstreamClient[] = []
  beforeAll(async () => { server = await startTestServer() })
  afterEach(() => { for (const client of clients.splice(0)) client.close() })
  afterAll(async () => { await server.close() })

  it('delivers a published update, then the deletion a subscriber gets as it is unsubscribed, in order', async () => {
    const [writer, reader] = [await connect(server), await connect(server)]
    clients.push(writer, reader)
    const seen: string[] = []
    const record = reader.record.getRecord('topic-fan-out/r')
    await record.whenReady()
    record.subscribe((data: unknown) => { seen.push(JSON.stringify(data)) })
    const deleted = new Promise<void>((resolve) => record.on('delete', () => resolve()))
    await writer.record.setDataWithAck('topic-fan-out/r', { v: 1 })
    const own = writer.record.getRecord('topic-fan-out/r')
    await own.whenReady()
    own.delete()
    await deleted
    expect(seen).toEqual(['{"v":1}'])
  })
})

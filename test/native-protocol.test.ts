import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { decodeNativeFrame, encodeNative, joinFrames, MAX_MESSAGES_PER_FRAME, nativeCodec, NATIVE_PROTOCOL_VERSION } from '../src/native-free-core/protocol/native-codec.js'
import { encodeProtobuf, decodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'
import { jsonCodec } from '../src/native-free-core/protocol/json-codec.js'
import { AUTH_ACTION, CONNECTION_ACTION, EVENT_ACTION, PARSER_ACTION, RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import type { Message } from '../src/index.js'
import { connect, closeClients, KINDS, oneWorker, workerPort, eventually, startInProcessServer, startTestServer, url, type Reachable, type TestServer } from './helpers.js'
import { RiptideClient } from '../src/client/index.js'

/** Every field of the model set, with values equal to the FlatBuffers defaults where a default exists. */
const everyField: Message = {
  topic: TOPIC.RECORD,
  action: RECORD_ACTION.VERSION_EXISTS,
  name: 'r',
  names: ['a', ''],
  data: '{"a":1}',
  correlationId: '',
  isAck: false,
  isError: false,
  isWriteAck: true,
  path: 'a.b[0]',
  version: 0,
  versions: { a: 1, b: -1 },
  subscription: 's',
  pattern: '^p',
  originalAction: 0,
  url: 'ws://x',
  protocolVersion: '1.0',
  sdkVersion: '7',
  sdkType: 'js',
  requestorName: 'u',
  requestorData: '{"x":true}',
}

describe('ws-native codec', () => {
  it('round-trips every field, keeping fields present when they hold a default', () => {
    expect(decodeNativeFrame(encodeNative(everyField))).toEqual([everyField])
    expect(decodeNativeFrame(encodeNative({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PING }))).toEqual([{ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PING }])
    // Whatever order the properties were set in; an undefined one is absent.
    const reversed = Object.fromEntries([['pattern', undefined], ...Object.entries(everyField).reverse()]) as unknown as Message
    expect(decodeNativeFrame(encodeNative(reversed))).toEqual([everyField])
    expect(decodeNativeFrame(encodeNative({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, names: [], versions: {} }))).toEqual([{ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, names: [], versions: {} }])
  })

  it('carries binary data as bytes and JSON data as text, said by the format flag', () => {
    const bytes = new Uint8Array([0, 255, 10, 13, 0x7b])
    const [binary] = decodeNativeFrame(encodeNative({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'b', data: bytes }))
    expect(binary.data).toBeInstanceOf(Uint8Array)
    expect([...(binary.data as Uint8Array)]).toEqual([...bytes])
    const [json] = decodeNativeFrame(encodeNative({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'j', data: '"ünïcödé"' }))
    expect(json.data).toBe('"ünïcödé"')
  })

  it.each([
    ['native', (message: Message): Message => decodeNativeFrame(encodeNative(message))[0]],
    ['protobuf', (message: Message): Message => decodeProtobuf(encodeProtobuf(message))],
  ] as const)('decodes every short name to itself over %s, whatever names came before (the decoders cache recent ones)', (_codec, roundTrip) => {
    // 5,000 names over a cache of 1,024 slots: many share a slot, and each must still decode to its own text.
    const names = Array.from({ length: 5000 }, (_, i) => `topic/${i.toString(36)}`)
    for (const order of [names, [...names].reverse(), names]) {
      const decoded = order.map((name) => roundTrip({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, correlationId: `c${name}` }))
      expect(decoded.map((m) => m.name)).toEqual(order)
      expect(decoded.map((m) => m.correlationId)).toEqual(order.map((name) => `c${name}`))
    }
    for (const name of ['ab', 'ba', 'ünï', 'x'.repeat(64), 'y'.repeat(65), '']) expect(roundTrip({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name }).name).toBe(name)
  })

  it('gives the deepstream codecs binary data as a base64 JSON string', () => {
    const message: Message = { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'b', data: new Uint8Array([1, 2, 3]) }
    expect(decodeProtobuf(encodeProtobuf(message)).data).toBe('"AQID"')
    expect(JSON.parse(jsonCodec.encode(message) as string).data).toBe('"AQID"')
  })

  it('reads several messages from one frame, in order; each message keeps 4-byte alignment', () => {
    const messages: Message[] = [
      { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'a', data: '1' },
      { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'bb', data: new Uint8Array([7]) },
      everyField,
    ]
    const parts = messages.map(encodeNative)
    for (const part of parts) expect(part.byteLength % 4).toBe(0)
    const frame = joinFrames(parts, parts.reduce((n, p) => n + p.byteLength, 0))
    expect(decodeNativeFrame(frame).map((m) => m.name)).toEqual(['a', 'bb', 'r'])
  })

  it('refuses a malformed frame whole, with a protocol error, whatever the corruption', () => {
    const good = encodeNative(everyField)
    const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['truncated', good.slice(0, good.byteLength - 3)],
      ['prefix only', good.slice(0, 3)],
      ['size larger than the frame', (() => { const b = good.slice(); view(b).setUint32(0, 1 << 30, true); return b })()],
      ['root offset outside', (() => { const b = good.slice(); view(b).setUint32(4, 1 << 20, true); return b })()],
      ['vtable outside', (() => { const b = good.slice(); const root = view(b).getUint32(4, true) + 4; view(b).setInt32(root, -(1 << 20), true); return b })()],
      ['good then garbage', joinFrames([good, new Uint8Array([8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])], good.byteLength + 12)],
    ]
    for (const [what, frame] of cases) {
      expect(() => decodeNativeFrame(frame), what).toThrow(expect.objectContaining({ code: 'RT_PROTOCOL' }))
    }
    expect(() => decodeNativeFrame('text')).toThrow(expect.objectContaining({ code: 'RT_PROTOCOL' }))
  })

  it('survives every single-byte corruption and every truncation without hanging or throwing anything but a protocol error', () => {
    const good = encodeNative(everyField)
    for (let i = 0; i < good.byteLength; i++) {
      for (const value of [0x00, 0xff, 0x7f, 0x80]) {
        const bad = good.slice()
        bad[i] = value
        try {
          decodeNativeFrame(bad)
        } catch (error) {
          expect((error as { code?: string }).code, `byte ${i} = ${value}`).toBe('RT_PROTOCOL')
        }
      }
      expect(() => decodeNativeFrame(good.subarray(0, i))).toThrow(expect.objectContaining({ code: 'RT_PROTOCOL' }))
    }
  })

  it('refuses a vector whose length claims more items than the message holds', () => {
    const bytes = encodeNative({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['a', 'b'] })
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    // The names vector's length field is the u32 that holds 2 and is followed by two offsets.
    let patched = false
    for (let at = 4; at + 4 <= bytes.byteLength; at += 4) {
      if (view.getUint32(at, true) === 2) { view.setUint32(at, 0x7fffffff, true); patched = true; break }
    }
    expect(patched).toBe(true)
    expect(() => decodeNativeFrame(bytes)).toThrow(/outside the message/)
  })

  it(`refuses frames with more than ${MAX_MESSAGES_PER_FRAME} messages`, () => {
    const ping = encodeNative({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PING })
    const parts = new Array<Uint8Array>(MAX_MESSAGES_PER_FRAME + 1).fill(ping)
    expect(() => decodeNativeFrame(joinFrames(parts, ping.byteLength * parts.length))).toThrow(/messages in one frame/)
    expect(nativeCodec.decodeAll?.(joinFrames(parts.slice(1), ping.byteLength * MAX_MESSAGES_PER_FRAME))).toHaveLength(MAX_MESSAGES_PER_FRAME)
  })
})

/** A raw native WebSocket: frames in and out as they are. */
class RawNative {
  readonly frames: Message[][] = []
  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.frames.push(decodeNativeFrame(new Uint8Array(data))))
  }

  static async open (server: Reachable): Promise<RawNative> {
    const ws = new WebSocket(url(server, '/riptide'))
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return new RawNative(ws)
  }

  send (...messages: Message[]): void {
    const parts = messages.map(encodeNative)
    this.ws.send(joinFrames(parts, parts.reduce((n, p) => n + p.byteLength, 0)))
  }

  get messages (): Message[] { return this.frames.flat() }

  closed (): Promise<number> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) resolve(1006)
      else this.ws.once('close', (code: number) => resolve(code))
    })
  }
}

const challenge: Message = { topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, protocolVersion: NATIVE_PROTOCOL_VERSION }
const login: Message = { topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: '{}' }

describe.each(KINDS)('the ws-native endpoint over %s', (kind) => {
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({}, kind) })
  afterAll(async () => {
    closeClients()
    await server.close()
  })

  it('takes a challenge and a login in one frame and answers a batch of requests with one frame', async () => {
    const raw = await RawNative.open(server)
    raw.send(challenge, login)
    await eventually(() => expect(raw.messages.map((m) => m.action)).toEqual([CONNECTION_ACTION.ACCEPT, AUTH_ACTION.AUTH_SUCCESSFUL]))
    raw.frames.length = 0
    raw.send(...['a', 'b', 'c'].map((name, i) => ({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: [name], correlationId: String(i) })))
    await eventually(() => expect(raw.messages).toHaveLength(3))
    expect(raw.frames).toHaveLength(1)
    expect(raw.messages.map((m) => [m.correlationId, m.isAck])).toEqual([['0', true], ['1', true], ['2', true]])
    raw.ws.close()
  })

  it('fans a batch of emits out to each subscriber as one frame; across workers, in order, in as many frames as the ring drains took', async () => {
    const across = (server.supervisor?.count ?? 1) > 1
    const publisher = await RawNative.open(oneWorker(server))
    const local = await RawNative.open(oneWorker(server))
    const remote = across ? await RawNative.open(workerPort(server, 1)) : null
    const subscribers = remote === null ? [local] : [local, remote]
    for (const raw of [publisher, ...subscribers]) raw.send(challenge, login)
    for (const raw of subscribers) {
      await eventually(() => expect(raw.messages).toHaveLength(2))
      raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['batch'], correlationId: 's' })
      await eventually(() => expect(raw.messages).toHaveLength(3))
      raw.frames.length = 0
    }
    await eventually(() => expect(publisher.messages).toHaveLength(2))
    publisher.send(...Array.from({ length: 10 }, (_, i) => ({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'batch', data: String(i) })))
    for (const raw of subscribers) {
      await eventually(() => expect(raw.messages).toHaveLength(10))
      expect(raw.messages.map((m) => m.data)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    }
    // On the publisher's worker the ten leave in the turn that read them: one frame.
    expect(local.frames).toHaveLength(1)
    for (const raw of [publisher, ...subscribers]) raw.ws.close()
  })

  it('refuses a client that speaks another major version, saying which one it speaks', async () => {
    const raw = await RawNative.open(server)
    raw.send({ ...challenge, protocolVersion: '2.0' })
    expect(await raw.closed()).toBe(1008)
    expect(raw.messages[0]).toMatchObject({ action: CONNECTION_ACTION.REJECT })
    expect(raw.messages[0].data).toContain(`speaks ${NATIVE_PROTOCOL_VERSION}`)
  })

  it('answers a malformed frame with a parse error and keeps serving the socket', async () => {
    const raw = await RawNative.open(server)
    raw.send(challenge, login)
    await eventually(() => expect(raw.messages).toHaveLength(2))
    raw.ws.send(new Uint8Array([200, 0, 0, 0, 1, 2, 3]))
    await eventually(() => expect(raw.messages[2]).toMatchObject({ topic: TOPIC.PARSER, action: PARSER_ACTION.MESSAGE_PARSE_ERROR }))
    raw.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PING })
    await eventually(() => expect(raw.messages[3]).toMatchObject({ action: CONNECTION_ACTION.PONG }))
    raw.ws.close()
  })

  it('refuses bytes as auth data, and binary record data', async () => {
    const refused = await RawNative.open(server)
    refused.send(challenge, { ...login, data: new Uint8Array([123, 125]) })
    expect(await refused.closed()).toBeGreaterThan(0)
    expect(refused.messages.map((m) => m.action)).toEqual([CONNECTION_ACTION.ACCEPT, AUTH_ACTION.INVALID_MESSAGE_DATA])
    const raw = await RawNative.open(server)
    raw.send(challenge, login)
    await eventually(() => expect(raw.messages).toHaveLength(2))
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'bin', version: -1, data: new Uint8Array([1]), isWriteAck: true, correlationId: 'w' })
    await eventually(() => expect(raw.messages[2]).toMatchObject({ action: RECORD_ACTION.INVALID_MESSAGE_DATA, data: '"record data must be JSON, not binary"' }))
    raw.ws.close()
  })

  it('closes a text frame', async () => {
    const raw = await RawNative.open(server)
    raw.ws.send('{"topic":2,"action":5}')
    expect(await raw.closed()).toBe(1008)
  })
})

describe('fan-out across protocols', () => {
  it('encodes a message once per protocol, however many subscribers each has', async () => {
    const server = await startInProcessServer()
    try {
      const natives = await Promise.all([0, 1, 2].map(async () => {
        const client = new RiptideClient(url(server, '/riptide'))
        await client.login()
        return client
      }))
      // Subscriptions sent at once (no batching); a round trip after them proves they landed.
      const deepstreams = await Promise.all([0, 1].map(() => connect(server, {}, { subscriptionInterval: 0 })))
      const got: unknown[] = []
      for (const client of natives) await client.event.subscribe('fan', (data) => got.push(data))
      for (const client of deepstreams) {
        client.event.subscribe('fan', (data: unknown) => got.push(data))
        await client.record.has('fan/landed')
      }

      const counts = new Map<string, number>()
      const count = (codec: { name: string, encode: (m: Message) => Uint8Array | string }): () => void => {
        const encode = codec.encode
        codec.encode = (message) => {
          if (message.action === EVENT_ACTION.EMIT && message.name === 'fan') counts.set(codec.name, (counts.get(codec.name) ?? 0) + 1)
          return encode(message)
        }
        return () => { codec.encode = encode }
      }
      const { protobufCodec } = await import('../src/native-free-core/protocol/protobuf-codec.js')
      const restore = [count(nativeCodec), count(protobufCodec)]
      try {
        const sender = new RiptideClient(url(server, '/riptide'))
        await sender.login()
        sender.event.emit('fan', { n: 1 })
        await eventually(() => expect(got).toHaveLength(5))
        expect(Object.fromEntries(counts)).toEqual({ 'ws-native': 1, 'ws-binary': 1 })
        sender.close()
      } finally {
        for (const undo of restore) undo()
      }
      for (const client of natives) client.close()
      closeClients()
    } finally {
      await server.close()
    }
  })
})

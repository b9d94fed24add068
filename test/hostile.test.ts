/**
 * Input a well-behaved client never sends, with raw WebSocket frames where
 * the stock client cannot produce it: every case gets a protocol error,
 * repeated abuse closes the socket with a reason, and the server keeps
 * serving everyone else.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { closeClients, connect, eventually, KINDS, RawClient, startTestServer, url, type TestServer } from './helpers.js'
import { EVENT_ACTION, PARSER_ACTION, RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { encodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'

function closeInfo (raw: RawClient): Promise<{ code: number, reason: string }> {
  return new Promise((resolve) => {
    if (raw.ws.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' })
    raw.ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }))
  })
}

describe.each(KINDS)('hostile input over %s', (kind) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ connectionEndpoints: [{ type: 'ws-binary', options: { maxInvalidMessages: 10, maxSubscriptions: 50, maxSendBuffer: 4 * 1024 * 1024 } }, { type: 'ws-json', options: {} }] }, kind)
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('answers a malformed frame with a parse error, and closes a socket that keeps sending them', async () => {
    const raw = await RawClient.login(server)
    const closed = closeInfo(raw)
    raw.ws.send(Buffer.from([0xff, 0xff, 0xff, 0x07, 0x01]))
    expect(await raw.next((m) => m.topic === TOPIC.PARSER)).toMatchObject({ action: PARSER_ACTION.MESSAGE_PARSE_ERROR })
    for (let i = 0; i < 12; i++) raw.ws.send(Buffer.from([0x0a, 0xff, 0xff]))
    expect(await closed).toEqual({ code: 1008, reason: 'too many invalid messages: over 10 in 10 s' })
    expect(await (await connect(server)).record.has('still-serving')).toBe(false)
  })

  it('answers a malformed JSON frame on the JSON endpoint with a parse error', async () => {
    const ws = new WebSocket(url(server, '/deepstream-json'))
    await new Promise((resolve) => ws.once('open', resolve))
    const replies: string[] = []
    ws.on('message', (data: Buffer) => replies.push(data.toString()))
    ws.send('{"topic": 2, "action": 5, "url": ')
    await eventually(() => expect(replies.length).toBeGreaterThan(0))
    expect(JSON.parse(replies[0])).toMatchObject({ topic: TOPIC.CONNECTION })
    ws.close()
  })

  it('refuses subscriptions past the per-socket limit, and closes a socket that floods', async () => {
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: Array.from({ length: 50 }, (_, i) => `flood/${i}`), correlationId: 'a' })
    await raw.next((m) => m.correlationId === 'a' && m.isAck === true)
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['flood/50'], correlationId: 'b' })
    expect(await raw.next((m) => m.name === 'flood/50')).toMatchObject({ action: EVENT_ACTION.INVALID_MESSAGE_DATA, data: JSON.stringify('subscription limit of 50 names reached') })
    const closed = closeInfo(raw)
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: Array.from({ length: 1000 }, (_, i) => `more/${i}`), correlationId: 'c' })
    expect(await closed).toEqual({ code: 1008, reason: 'too many invalid messages: over 10 in 10 s' })
  })

  it('answers an unknown topic and an unknown action, and closes on a text frame to the binary endpoint', async () => {
    const raw = await RawClient.login(server)
    // topic 99, an empty body: the codec refuses to write it, so the bytes are written by hand.
    raw.ws.send(Buffer.from([0x08, 0x63, 0x12, 0x00]))
    expect(await raw.next((m) => m.topic === TOPIC.PARSER)).toMatchObject({ action: PARSER_ACTION.MESSAGE_PARSE_ERROR })
    raw.send({ topic: TOPIC.EVENT, action: 99, name: 'x' })
    expect(await raw.next((m) => m.topic === TOPIC.EVENT)).toMatchObject({ action: EVENT_ACTION.INVALID_MESSAGE_DATA, isError: true })
    const closed = closeInfo(raw)
    raw.ws.send('{"topic":4}')
    expect(await closed).toEqual({ code: 1008, reason: 'ws-binary accepts binary frames only' })
  })

  it('refuses record data nested too deep, and stores huge data that fits the size limit', async () => {
    const raw = await RawClient.login(server)
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'deep', version: -1, data: deep, isWriteAck: true, correlationId: 'd' })
    expect(await raw.next((m) => m.correlationId === 'd')).toMatchObject({ action: RECORD_ACTION.INVALID_MESSAGE_DATA, isError: true })
    const wide = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ i, s: 'x'.repeat(20) })) })
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'wide', version: -1, data: wide, isWriteAck: true, correlationId: 'w' })
    expect(await raw.next((m) => m.correlationId === 'w')).toMatchObject({ action: RECORD_ACTION.WRITE_ACKNOWLEDGEMENT })
    raw.close()
  })

  it('refuses a patch whose array index would pad the record with millions of nulls, and keeps the record', async () => {
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'padded', version: -1, data: '["a"]', isWriteAck: true, correlationId: 's' })
    expect(await raw.next((m) => m.correlationId === 's')).toMatchObject({ action: RECORD_ACTION.WRITE_ACKNOWLEDGEMENT })
    // Eleven bytes of path; accepted, the record would be 500 MB of JSON and stall its worker for tens of seconds.
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDPATCH, name: 'padded', version: -1, path: '[99999999]', data: '1', isWriteAck: true, correlationId: 'p' })
    const refusal = await raw.next((m) => m.correlationId === 'p')
    expect(refusal).toMatchObject({ action: RECORD_ACTION.RECORD_UPDATE_ERROR, isError: true })
    expect(refusal.data).toContain('more than 100000 slots')
    const client = await connect(server)
    expect(await client.record.snapshot('padded')).toEqual(['a'])
    raw.close()
  })

  it('serves names and paths with control characters as plain names, and refuses a bad path', async () => {
    const client = await connect(server)
    const name = 'ctl/\u0000\u0001\u001f\u007f/\u2028'
    await client.record.setDataWithAck(name, { ok: true })
    expect(await client.record.snapshot(name)).toEqual({ ok: true })
    await expect(client.record.setDataWithAck('ctl/path', '__proto__.polluted', 1)).rejects.toBe('RECORD_UPDATE_ERROR')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('closes a slow consumer within seconds, while other subscribers get every event', async () => {
    const supervisor = server.supervisor
    const open = (): number => supervisor === null ? 0 : Array.from({ length: supervisor.count }, (_, i) => supervisor.connections(i)).reduce((a, b) => a + b, 0)
    const slow = await RawClient.login(server)
    slow.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['firehose'], correlationId: 's' })
    await slow.next((m) => m.isAck === true)
    const closed = closeInfo(slow)
    // Stop reading for good (ws would resume its socket on its own): the kernel buffers fill, then the server's.
    const socket = (slow.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
    socket.pause()
    socket.resume = () => {}
    const fast = await connect(server)
    let received = 0
    let warm = false
    fast.event.subscribe('firehose', (data: unknown) => { if (data === 'warm') warm = true; else received++ })
    const raw = await RawClient.login(server)
    // The reading subscriber is live once it hears a warm-up event; only the others are counted.
    await eventually(() => {
      raw.ws.send(encodeProtobuf({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'firehose', data: '"warm"' }))
      expect(warm).toBe(true)
    })
    const before = open()
    const frame = encodeProtobuf({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'firehose', data: JSON.stringify('x'.repeat(16 * 1024)) })
    // Batches that the reading subscriber keeps up with, so only the one that stopped reading falls behind.
    let sent = 0
    while (sent < 6000 && (supervisor === null ? sent < 3000 : open() === before)) {
      for (let i = 0; i < 50; i++) raw.ws.send(frame)
      sent += 50
      await eventually(() => expect(received).toBe(sent), 10_000)
    }
    // The server drops the slow socket on its side at once (it cannot read the close frame yet)...
    if (supervisor !== null) expect(open()).toBe(before - 1)
    expect(received).toBe(sent)
    // ...and once it reads again, it finds the reason.
    delete (socket as { resume?: unknown }).resume
    socket.resume()
    const { code, reason } = await closed
    expect(code).toBe(1008)
    expect(reason).toMatch(/^slow consumer: over 4194304 bytes unsent/)
    raw.close()
  })
})

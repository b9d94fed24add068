import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { closeClients, connect, eventually, KINDS, sleep, startTestServer } from './helpers.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'

describe.each(KINDS)('http and ws-json over %s', (kind) => {
  let server: TestServer
  let base: string
  beforeAll(async () => {
    server = await startTestServer({}, kind)
    base = `http://127.0.0.1:${server.port}`
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  const post = async (body: unknown): Promise<{ status: number, json: any }> => {
    const response = await fetch(`${base}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const text = await response.text()
    return { status: response.status, json: text.startsWith('{') ? JSON.parse(text) : text }
  }

  it('answers the health check, unknown paths and wrong content types', async () => {
    expect((await fetch(`${base}/health-check`)).status).toBe(200)
    const missing = await fetch(`${base}/nope`)
    expect(missing.status).toBe(404)
    expect(await missing.text()).toBe('Endpoint not found.')
    expect((await fetch(`${base}/api`, { method: 'POST', body: 'x' })).status).toBe(415)
    expect((await post({ body: [{ topic: 'record', action: 'fly' }] })).status).toBe(400)
  })

  it('answers CORS headers at once and later alike, and serves on after a client gives up on its request', async () => {
    const health = await fetch(`${base}/health-check`, { headers: { origin: 'http://app.example' } })
    expect(health.headers.get('access-control-allow-origin')).toBe('*')
    const provider = await connect(server)
    let asked!: () => void
    const reached = new Promise<void>((resolve) => { asked = resolve })
    let answerLate: ((value: unknown) => void) | null = null
    provider.rpc.provide('http/slow', (_data: unknown, response: { send: (v: unknown) => void }) => {
      answerLate = (value) => response.send(value)
      asked()
    })
    provider.rpc.provide('http/ready', (_data: unknown, response: { send: (v: unknown) => void }) => response.send('yes'))
    // Both are provided once a JIF call reaches the second, provided after the first.
    await eventually(async () => expect((await post({ body: [{ topic: 'rpc', action: 'make', rpcName: 'http/ready' }] })).json.result).toBe('SUCCESS'))
    // The request's answer comes after the request callback returned: the client leaves first.
    const leaving = new AbortController()
    const abandoned = fetch(`${base}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body: [{ topic: 'rpc', action: 'make', rpcName: 'http/slow' }] }), signal: leaving.signal })
    await reached
    leaving.abort()
    await expect(abandoned).rejects.toThrow()
    ;(answerLate as unknown as (value: unknown) => void)('too late')
    const later = await fetch(`${base}/api`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://app.example' }, body: JSON.stringify({ body: [{ topic: 'event', action: 'emit', eventName: 'http/after', data: 1 }] }) })
    expect(later.status).toBe(200)
    // The answer's own header and the CORS header, both.
    expect(later.headers.get('content-type')).toBe('application/json')
    expect(later.headers.get('access-control-allow-origin')).toBe('*')
    expect(JSON.parse(await later.text())).toMatchObject({ result: 'SUCCESS' })
    expect((await fetch(`${base}/health-check`)).status).toBe(200)
  })

  it('runs a JIF batch: write, read, head, conflict, event, rpc, presence', async () => {
    const ws = await connect(server, { username: 'web' })
    const events: unknown[] = []
    ws.event.subscribe('from-http', (data: unknown) => events.push(data))
    ws.rpc.provide('double', (n: number, response: { send (x: unknown): void }) => response.send(n * 2))
    // The subscription and the provider are live once a JIF emit is heard and a JIF call answered.
    await eventually(async () => {
      await post({ body: [{ topic: 'event', action: 'emit', eventName: 'from-http', data: 'warm' }] })
      expect(events).toContain('warm')
    })
    await eventually(async () => expect((await post({ body: [{ topic: 'rpc', action: 'make', rpcName: 'double', data: 1 }] })).json.body[0]).toEqual({ success: true, data: 2 }))
    const { status, json } = await post({
      body: [
        { topic: 'record', action: 'write', recordName: 'jif/1', data: { a: 1 } },
        { topic: 'record', action: 'write', recordName: 'jif/1', path: 'b', data: 2 },
        { topic: 'record', action: 'read', recordName: 'jif/1' },
        { topic: 'record', action: 'head', recordName: 'jif/1' },
        { topic: 'record', action: 'write', recordName: 'jif/1', data: { stale: true }, version: 1 },
        { topic: 'event', action: 'emit', eventName: 'from-http', data: 'hello' },
        { topic: 'rpc', action: 'make', rpcName: 'double', data: 21 },
        { topic: 'presence', action: 'query' },
        { topic: 'list', action: 'write', listName: 'jif/list', data: ['a', 'b'] },
      ],
    })
    expect(status).toBe(200)
    expect(json.result).toBe('PARTIAL_SUCCESS')
    const [w1, w2, read, head, conflict, emit, rpc, presence, list] = json.body
    expect(w1).toEqual({ success: true })
    expect(w2).toEqual({ success: true })
    expect(read.success).toBe(true)
    expect(read.data).toEqual({ a: 1, b: 2 })
    expect(head).toEqual({ success: true, version: 2 })
    expect(conflict).toMatchObject({ success: false, errorEvent: 102, currentVersion: 2, currentData: { a: 1, b: 2 } })
    expect(emit).toEqual({ success: true })
    expect(rpc).toEqual({ success: true, data: 42 })
    expect(presence).toEqual({ success: true, users: ['web'] })
    expect(list).toEqual({ success: true })
    await eventually(() => expect(events.filter((event) => event !== 'warm')).toEqual(['hello']))
  })

  it('speaks JSON frames on /deepstream-json', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/deepstream-json`)
    const received: any[] = []
    socket.on('message', (data: Buffer) => received.push(JSON.parse(data.toString())))
    await new Promise((resolve) => socket.once('open', resolve))
    const until = async (match: (m: any) => boolean): Promise<any> => {
      for (let i = 0; i < 300; i++) {
        const found = received.find(match)
        if (found !== undefined) return found
        await sleep(10)
      }
      throw new Error(`not received: ${JSON.stringify(received)}`)
    }
    socket.send(JSON.stringify({ topic: 2, action: 5, url: 'x' }))
    await until((m) => m.topic === 2 && m.action === 4)
    socket.send(JSON.stringify({ topic: 3, action: 2, data: '{"username":"json"}' }))
    await until((m) => m.topic === 3 && m.action === 3)
    socket.send(JSON.stringify({ topic: 5, action: 23, names: ['json/rec'], correlationId: '0' }))
    expect(await until((m) => m.topic === 5 && m.action === 4)).toMatchObject({ name: 'json/rec', version: 0, parsedData: {} })
    socket.send('not json')
    expect(await until((m) => m.topic === 1)).toMatchObject({ action: 4 })
    socket.close()
  })
})

describe.each(KINDS)('a JIF request past its requestTimeout, over %s', (kind) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ connectionEndpoints: [{ type: 'ws-binary' }, { type: 'http', options: { requestTimeout: 300 } }] }, kind)
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('answers the item still waiting and every item after it with the timeout, and the next request is served', async () => {
    const post = async (...body: unknown[]): Promise<any> => {
      const response = await fetch(`http://127.0.0.1:${server.port}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body }) })
      return JSON.parse(await response.text())
    }
    const provider = await connect(server)
    provider.rpc.provide('jif/never', () => {}) // accepted by the client, never answered
    provider.rpc.provide('jif/ping', (_data: unknown, response: { send: (v: unknown) => void }) => response.send('pong'))
    // Both are provided once a JIF call reaches the second, provided after the first.
    await eventually(async () => expect((await post({ topic: 'rpc', action: 'make', rpcName: 'jif/ping' })).result).toBe('SUCCESS'))
    const timedOut = { success: false, errorTopic: 'connection', errorEvent: 'HTTP_REQUEST_TIMEOUT' }
    const answer = await post({ topic: 'rpc', action: 'make', rpcName: 'jif/never' }, { topic: 'rpc', action: 'make', rpcName: 'jif/ping' })
    expect(answer).toMatchObject({ result: 'FAILURE', body: [timedOut, timedOut] })
    expect(await post({ topic: 'rpc', action: 'make', rpcName: 'jif/ping' })).toMatchObject({ result: 'SUCCESS', body: [{ success: true, data: 'pong' }] })
  })
})

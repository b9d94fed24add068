/**
 * riptide/client's DeepstreamClient: @deepstream/client 7's API over the native protocol. What the
 * shared scenarios (events.test.ts, listening.test.ts with `compat`) do not cover: the login
 * forms, the connection states and their event, a refused login answered as @deepstream/client
 * answers it, reconnection, and `unsubscribe` without a callback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { CONNECTION_STATE, DeepstreamClient } from '../src/client/index.js'
import { decodeNativeFrame } from '../src/native-free-core/protocol/native-codec.js'
import { CONNECTION_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { closeClients, eventually, KINDS, startTestServer, url, type TestServer } from './helpers.js'

const TOKEN = 'tok-compat-0123456789'

describe.each(KINDS)('riptide/client DeepstreamClient over %s', (kind) => {
  let server: TestServer
  const opened: DeepstreamClient[] = []
  const client = (options: Record<string, unknown> = {}): DeepstreamClient => {
    const made = new DeepstreamClient(url(server, '/riptide'), { maxReconnectAttempts: 0, ...options })
    made.on('error', () => {})
    opened.push(made)
    return made
  }
  beforeAll(async () => {
    server = await startTestServer({ auth: [{ type: 'token', options: { tokens: { [TOKEN]: { id: 'tess', clientData: { plan: 'pro' } } } } }] }, kind)
  })
  afterEach(() => {
    for (const each of opened.splice(0)) each.close()
    closeClients()
  })
  afterAll(async () => { await server.close() })

  it('logs in with a promise or a callback, and passes through the states of @deepstream/client', async () => {
    const first = client()
    const states: string[] = []
    first.on('connectionStateChanged', (state: unknown) => states.push(String(state)))
    expect(first.getConnectionState()).toBe(CONNECTION_STATE.AWAITING_AUTHENTICATION)
    expect(await first.login({ token: TOKEN })).toEqual({ plan: 'pro' })
    expect(first.getConnectionState()).toBe(CONNECTION_STATE.OPEN)
    first.close()
    expect(states).toEqual([CONNECTION_STATE.AWAITING_CONNECTION, CONNECTION_STATE.AUTHENTICATING, CONNECTION_STATE.OPEN, CONNECTION_STATE.CLOSED])

    const second = client()
    const answer = await new Promise<[boolean, unknown]>((resolve) => second.login({ token: TOKEN }, (success, data) => resolve([success, data])))
    expect(answer).toEqual([true, { plan: 'pro' }])
    expect(second.getUid()).not.toBe(second.getUid())
  })

  it('pings every heartbeatInterval, 30 s unless given: none while a few hundred writes are acknowledged', async () => {
    let pings = 0
    // The client's own socket class, counting the PING frames it sends (topic CONNECTION, action PING).
    class Counting extends WebSocket {
      override send (data: Uint8Array): void {
        for (const message of decodeNativeFrame(data)) if (message.topic === TOPIC.CONNECTION && message.action === CONNECTION_ACTION.PING) pings++
        super.send(data)
      }
    }
    for (const options of [{}, { heartbeatInterval: undefined }]) {
      const writer = client({ ...options, WebSocket: Counting })
      await writer.login({ token: TOKEN })
      const record = writer.record.getRecord(`compat/heartbeat/${kind}`)
      await record.whenReady()
      for (let n = 0; n < 200; n++) await record.setWithAck({ n })
    }
    expect(pings).toBe(0)

    const eager = client({ heartbeatInterval: 20, WebSocket: Counting })
    await eager.login({ token: TOKEN })
    await eventually(() => expect(pings).toBeGreaterThan(0))
  })

  it('refuses a login as @deepstream/client does: the promise rejects, and the callback hears false, with the reason', async () => {
    await expect(client().login({ token: 'not-the-token-0123456' })).rejects.toEqual({ reason: 'INVALID_AUTHENTICATION_DETAILS' })
    const answer = await new Promise<[boolean, unknown]>((resolve) => client().login({ token: 'not-the-token-0123456' }, (success, data) => resolve([success, data])))
    expect(answer).toEqual([false, { reason: 'INVALID_AUTHENTICATION_DETAILS' }])
  })

  it('answers make and getAll through callbacks too, and unprovides', async () => {
    const provider = client()
    await provider.login({ token: TOKEN })
    provider.rpc.provide('compat/echo', (data, response) => response.send(data))
    expect(provider.rpc.providerNames()).toEqual(['compat/echo'])
    const caller = client()
    await caller.login({ token: TOKEN })
    await eventually(async () => expect(await caller.rpc.make('compat/echo', { n: 1 })).toEqual({ n: 1 }))
    expect(await new Promise((resolve) => caller.rpc.make('compat/echo', 'cb', (error, result) => resolve([error, result])))).toEqual([null, 'cb'])
    // The provider's own user is online for the caller (the same token user on both: tess).
    expect(await new Promise((resolve) => caller.presence.getAll(['tess'], (error, result) => resolve([error, result])))).toEqual([null, { tess: true }])
    provider.rpc.unprovide('compat/echo')
    await eventually(async () => expect(await caller.rpc.make('compat/echo', 1).catch((error: unknown) => error)).toBe('NO_RPC_PROVIDER'))
  })

  it('carries bytes in events and RPCs as a native feature, and JSON as @deepstream/client does', async () => {
    const [a, b] = [client(), client()]
    await a.login({ token: TOKEN })
    await b.login({ token: TOKEN })
    const got: unknown[] = []
    b.event.subscribe('compat/bytes', (data) => got.push(data))
    b.rpc.provide('compat/reverse', (data, response) => response.send(data instanceof Uint8Array ? data.slice().reverse() : data))
    await eventually(() => {
      a.event.emit('compat/bytes', new Uint8Array([0, 255]))
      expect(got.length).toBeGreaterThan(0)
    })
    a.event.emit('compat/bytes', { json: true })
    await eventually(() => expect(got.at(-1)).toEqual({ json: true }))
    expect([...(got[0] as Uint8Array)]).toEqual([0, 255])
    // The provider is registered once a request reaches it.
    await eventually(async () => expect([...(await a.rpc.make('compat/reverse', new Uint8Array([1, 2, 3])) as Uint8Array)]).toEqual([3, 2, 1]))
  })

  it('pauses (OFFLINE, nothing lost) and resumes: its subscriptions and records are back', async () => {
    const paused = client()
    await paused.login({ token: TOKEN })
    const other = client()
    await other.login({ token: TOKEN })
    const got: unknown[] = []
    paused.event.subscribe('compat/paused', (data) => got.push(data))
    await eventually(() => {
      other.event.emit('compat/paused', 'warm')
      expect(got).toContain('warm')
    })
    const record = paused.record.getRecord('compat/paused/record')
    await record.whenReady()
    paused.pause()
    expect(paused.getConnectionState()).toBe(CONNECTION_STATE.OFFLINE)
    await other.record.setDataWithAck('compat/paused/record', { by: 'other' })
    expect(record.get()).toEqual({})
    expect(await new Promise((resolve) => paused.resume(resolve))).toBeUndefined()
    expect(paused.getConnectionState()).toBe(CONNECTION_STATE.OPEN)
    await eventually(() => expect(record.get()).toEqual({ by: 'other' }))
    await eventually(() => {
      other.event.emit('compat/paused', 'after')
      expect(got).toContain('after')
    })
  })

  it('tells a listener that accepted when the last subscriber leaves (onStop)', async () => {
    const provider = client()
    await provider.login({ token: TOKEN })
    const stopped: string[] = []
    const found: string[] = []
    provider.event.listen('^compat/stock/.*', (name, response) => {
      found.push(name)
      response.onStop((stoppedName) => stopped.push(stoppedName))
      response.accept()
    })
    const subscriber = client()
    await subscriber.login({ token: TOKEN })
    const handler = (): void => {}
    subscriber.event.subscribe('compat/stock/acme', handler)
    await eventually(() => expect(found).toEqual(['compat/stock/acme']))
    expect(stopped).toEqual([])
    subscriber.event.unsubscribe('compat/stock/acme', handler)
    await eventually(() => expect(stopped).toEqual(['compat/stock/acme']))
  })

  it('unsubscribes every callback of a name when given none, and subscribes again after a reconnection', async () => {
    const listener = client({ maxReconnectAttempts: 5, reconnectIntervalIncrement: 50 })
    await listener.login({ token: TOKEN })
    const emitter = client()
    await emitter.login({ token: TOKEN })
    const got: unknown[] = []
    listener.event.subscribe('compat/news', (data) => got.push(data))
    listener.event.subscribe('compat/news', (data) => got.push(`second ${String(data)}`))
    expect(listener.event.eventNames()).toEqual(['compat/news'])
    await eventually(() => {
      emitter.event.emit('compat/news', 'warm')
      expect(got).toContain('warm')
    })
    listener.event.unsubscribe('compat/news')
    expect(listener.event.eventNames()).toEqual([])
    // The reconnection test below needs a subscription again.
    const after: unknown[] = []
    listener.event.subscribe('compat/after', (data) => after.push(data))
    await eventually(() => {
      emitter.event.emit('compat/after', 1)
      expect(after).toContain(1)
    })
    // Dropped by the server (a restart would do the same): the client reconnects and subscribes again.
    const states: string[] = []
    listener.on('connectionStateChanged', (state: unknown) => states.push(String(state)))
    const raw = (listener as unknown as { connection: { socket: { close (): void } | null } }).connection.socket
    raw?.close()
    await eventually(() => expect(states).toContain(CONNECTION_STATE.RECONNECTING))
    await eventually(() => expect(listener.getConnectionState()).toBe(CONNECTION_STATE.OPEN))
    await eventually(() => {
      emitter.event.emit('compat/after', 2)
      expect(after).toContain(2)
    })
    // Nothing of 'compat/news' came after its unsubscribe: the emits of 'compat/after' overtook any.
    expect(got.filter((data) => data !== 'warm' && data !== 'second warm')).toEqual([])
  })
})

describe('riptide/client DeepstreamClient with no server', () => {
  it('says so through the login promise', async () => {
    const unreachable = new DeepstreamClient('ws://127.0.0.1:9/riptide', { maxReconnectAttempts: 0 })
    await expect(unreachable.login()).rejects.toMatchObject({ code: 'CONNECTION_LOST' })
    expect(unreachable.getConnectionState()).toBe(CONNECTION_STATE.CLOSED)
  })
})

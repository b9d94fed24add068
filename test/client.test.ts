import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { WebSocketServer } from 'ws'
import { decodeNativeFrame, encodeNative } from '../src/native-free-core/protocol/native-codec.js'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { RiptideClient, VersionConflictError, type ClientOptions } from '../src/client/index.js'
import { validateConfig } from '../src/index.js'
import { Supervisor } from '../src/main/supervisor.js'
import { PinoLogger } from '../src/native-free-core/plugins/logger/pino-logger.js'
import { closeClients, connect, DEFAULT_KIND, eventually, KINDS, makeTempDir, removeTempDirs, startTestServer, TEST_WORKERS, url, type Reachable, type TestServer } from './helpers.js'
import { freePort } from '../src/native-adapters/http/free-port.js'

const natives: RiptideClient[] = []

async function native (server: Reachable, auth: Record<string, unknown> = {}, options: ClientOptions = {}): Promise<RiptideClient> {
  const client = new RiptideClient(url(server, '/riptide'), { reconnect: { initialDelay: 50, maxDelay: 200 }, ...options })
  natives.push(client)
  await client.login(auth)
  return client
}

function closeNatives (): void {
  for (const client of natives.splice(0)) client.close()
}

describe.each(KINDS)('riptide/client over %s', (kind) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      auth: [{ type: 'token', options: { tokens: { 'token-for-ada-0123456789': { id: 'ada', clientData: { plan: 'pro' } }, 'token-for-bob-0123456789': { id: 'bob' } } } }],
    }, kind)
  })
  afterEach(() => {
    closeNatives()
    closeClients()
  })
  afterAll(async () => { await server.close() })

  const ada = (): Promise<RiptideClient> => native(server, { token: 'token-for-ada-0123456789' })
  const bob = (): Promise<RiptideClient> => native(server, { token: 'token-for-bob-0123456789' })

  it('is what the package exports as riptide/client (the build)', async () => {
    const exported = await import('riptide/client')
    expect(Object.keys(exported).sort()).toEqual(['CONNECTION_STATE', 'ClientError', 'DeepstreamClient', 'LOCAL_WINS', 'LoginError', 'MemoryRecordStore', 'REMOTE_WINS', 'RiptideClient', 'VersionConflictError', 'WebStorageRecordStore'])
  })

  describe('login', () => {
    it('resolves with the client data and reports the state', async () => {
      const client = new RiptideClient(url(server, '/riptide'))
      natives.push(client)
      const states: string[] = []
      client.onStateChange((state) => states.push(state))
      expect(await client.login({ token: 'token-for-ada-0123456789' })).toEqual({ plan: 'pro' })
      expect(states).toEqual(['connecting', 'authenticating', 'open'])
      client.close()
      expect(client.state).toBe('closed')
    })

    it('rejects wrong credentials with a LoginError and does not retry them', async () => {
      const client = new RiptideClient(url(server, '/riptide'))
      natives.push(client)
      await expect(client.login({ token: 'not-a-token-at-all-xxxx' })).rejects.toMatchObject({ name: 'LoginError', code: 'LOGIN_FAILED' })
      expect(client.state).toBe('closed')
    })
  })

  describe('events', () => {
    it('delivers JSON values and bytes to other subscribers, and to own subscribers locally', async () => {
      const [a, b] = await Promise.all([ada(), bob()])
      const gotA: unknown[] = []
      const gotB: unknown[] = []
      await a.event.subscribe('chat', (data) => gotA.push(data))
      await b.event.subscribe('chat', (data) => gotB.push(data))
      a.event.emit('chat', { text: 'hi' })
      a.event.emit('chat', new Uint8Array([0, 1, 254, 255]))
      a.event.emit('chat')
      await eventually(() => expect(gotB).toHaveLength(3))
      expect(gotB[0]).toEqual({ text: 'hi' })
      expect(gotB[1]).toBeInstanceOf(Uint8Array)
      expect([...(gotB[1] as Uint8Array)]).toEqual([0, 1, 254, 255])
      expect(gotB[2]).toBeUndefined()
      // b answers after it heard all three: an echo of a's emits would have reached a before it.
      b.event.emit('chat', 'from b')
      await eventually(() => expect(gotA).toContain('from b'))
      expect(gotA).toHaveLength(4) // a's three called locally, never echoed by the server, and b's
    })

    it('stops after unsubscribe', async () => {
      const [a, b] = await Promise.all([ada(), bob()])
      const got: unknown[] = []
      const stop = await b.event.subscribe('ticker', (data) => got.push(data))
      a.event.emit('ticker', 1)
      await eventually(() => expect(got).toEqual([1]))
      stop()
      // b's other subscription, from the same sender after 2: once 'end' is here, 2 would have been.
      const ended: unknown[] = []
      await b.event.subscribe('ticker/end', (data) => ended.push(data))
      a.event.emit('ticker', 2)
      a.event.emit('ticker/end', 3)
      await eventually(() => expect(ended).toEqual([3]))
      expect(got).toEqual([1])
    })
  })

  describe('records', () => {
    it('gets, sets and patches with versions and write acks; others see each change', async () => {
      const [a, b] = await Promise.all([ada(), bob()])
      const record = await a.record.get('client/r1')
      expect([record.version, record.data]).toEqual([0, {}])
      const seen: Array<[unknown, number]> = []
      const stop = await b.record.subscribe('client/r1', (data, version) => seen.push([data, version]))
      await record.set({ name: 'Ada', tags: ['x'] })
      expect(record.version).toBe(1)
      await record.patch('address.city', 'London')
      await record.patch('tags', undefined)
      expect([record.version, record.data]).toEqual([3, { name: 'Ada', address: { city: 'London' } }])
      expect(record.get('address.city')).toBe('London')
      await eventually(() => expect(seen.at(-1)).toEqual([{ name: 'Ada', address: { city: 'London' } }, 3]))
      expect(seen.map(([, version]) => version)).toEqual([0, 1, 2, 3])
      expect(await b.record.snapshot('client/r1')).toEqual({ version: 3, data: { name: 'Ada', address: { city: 'London' } } })
      expect(await b.record.head('client/r1')).toBe(3)
      stop()
      record.discard()
    })

    it('writes without following: set, patch; snapshot, head and delete', async () => {
      const a = await ada()
      await a.record.set('client/r2', { n: 1 })
      await a.record.patch('client/r2', 'm', 2)
      expect(await a.record.snapshot('client/r2')).toEqual({ version: 2, data: { n: 1, m: 2 } })
      await a.record.delete('client/r2')
      expect(await a.record.head('client/r2')).toBe(-1)
      await expect(a.record.snapshot('client/r2')).rejects.toMatchObject({ code: 'RECORD_NOT_FOUND' })
    })

    it('lets one of two racing writers win; the other gets a VersionConflictError and takes the winner\'s state', async () => {
      const [a, b] = await Promise.all([ada(), bob()])
      const mine = await a.record.get('client/conflict')
      const theirs = await b.record.get('client/conflict')
      // Both write version 1 at once: the server takes the first that reaches it.
      const results = await Promise.allSettled([mine.set({ by: 'a' }), theirs.set({ by: 'b' })])
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(lost).toHaveLength(1)
      expect(lost[0].reason).toBeInstanceOf(VersionConflictError)
      const winner = results[0].status === 'fulfilled' ? { by: 'a' } : { by: 'b' }
      expect(lost[0].reason).toMatchObject({ code: 'VERSION_EXISTS', version: 1, current: winner })
      await eventually(() => {
        expect([mine.version, mine.data]).toEqual([1, winner])
        expect([theirs.version, theirs.data]).toEqual([1, winner])
      })
      expect(await a.record.snapshot('client/conflict')).toEqual({ version: 1, data: winner })
    })

    it('tells subscribers about a delete', async () => {
      const [a, b] = await Promise.all([ada(), bob()])
      await a.record.set('client/doomed', { x: 1 })
      const seen: Array<[unknown, number]> = []
      await b.record.subscribe('client/doomed', (data, version) => seen.push([data, version]))
      await a.record.delete('client/doomed')
      await eventually(() => expect(seen.at(-1)).toEqual([undefined, -1]))
    })
  })

  describe('rpc', () => {
    it('provides and makes, with results, bytes, errors and no provider', async () => {
      const [a, b] = await Promise.all([ada(), bob()])
      await b.rpc.provide('add', (data) => {
        const [x, y] = data as [number, number]
        return x + y
      })
      await b.rpc.provide('reverse', (data) => (data as Uint8Array).slice().reverse())
      await b.rpc.provide('fail', async () => { throw new Error('no such thing') })
      expect(await a.rpc.make('add', [2, 3])).toBe(5)
      expect([...(await a.rpc.make('reverse', new Uint8Array([1, 2, 3])) as Uint8Array)]).toEqual([3, 2, 1])
      await expect(a.rpc.make('fail')).rejects.toMatchObject({ code: 'REQUEST_ERROR', message: 'no such thing' })
      await expect(a.rpc.make('nobody')).rejects.toMatchObject({ code: 'NO_RPC_PROVIDER' })
    })
  })

  describe('presence', () => {
    it('lists users and reports logins and logouts', async () => {
      const a = await ada()
      const events: string[] = []
      await a.presence.subscribe((user, online) => events.push(`all:${user}:${online}`))
      await a.presence.subscribe('bob', (user, online) => events.push(`bob:${online}`))
      const b = await bob()
      await eventually(() => expect(events).toEqual(expect.arrayContaining(['all:bob:true', 'bob:true'])))
      expect(await a.presence.getAll()).toEqual(['bob'])
      expect(await a.presence.getAll(['bob', 'carol'])).toEqual({ bob: true, carol: false })
      b.close()
      await eventually(() => expect(events).toEqual(expect.arrayContaining(['all:bob:false', 'bob:false'])))
    })
  })

  describe('next to @deepstream/client', () => {
    it('sees its events, and it sees ours; bytes reach it as base64', async () => {
      const a = await ada()
      const ds = await connect(server, { token: 'token-for-bob-0123456789' })
      const nativeGot: unknown[] = []
      const dsGot: unknown[] = []
      await a.event.subscribe('mixed', (data) => nativeGot.push(data))
      ds.event.subscribe('mixed', (data: unknown) => dsGot.push(data))
      // The stock client's subscription is live once it hears one of ours.
      await eventually(() => {
        a.event.emit('mixed', 'warm')
        expect(dsGot).toContain('warm')
      })
      ds.event.emit('mixed', { from: 'deepstream' })
      a.event.emit('mixed', { from: 'native' })
      a.event.emit('mixed', new Uint8Array([1, 2, 3]))
      await eventually(() => expect(nativeGot).toContainEqual({ from: 'deepstream' }))
      await eventually(() => expect(dsGot.filter((data) => data !== 'warm')).toEqual([{ from: 'deepstream' }, { from: 'native' }, 'AQID']))
    })

    it('shares records both ways, versions included', async () => {
      const a = await ada()
      const ds = await connect(server, { token: 'token-for-bob-0123456789' })
      const live = await a.record.get('mixed/record')
      const dsRecord = ds.record.getRecord('mixed/record')
      await dsRecord.whenReady()
      await live.set({ by: 'native' })
      await eventually(() => expect([dsRecord.version, dsRecord.get()]).toEqual([1, { by: 'native' }]))
      await dsRecord.setWithAck('count', 2)
      await eventually(() => expect([live.version, live.data]).toEqual([2, { by: 'native', count: 2 }]))
      await live.patch('count', 3)
      await eventually(() => expect(dsRecord.get('count')).toBe(3))
      live.discard()
    })

    it('makes and answers its RPCs', async () => {
      const a = await ada()
      const ds = await connect(server, { token: 'token-for-bob-0123456789' })
      ds.rpc.provide('ds-double', (data: number, response: { send (v: unknown): void }) => response.send(data * 2))
      await a.rpc.provide('native-triple', (data) => (data as number) * 3)
      await eventually(async () => expect(await a.rpc.make('ds-double', 21).catch((error: unknown) => error)).toBe(42))
      expect(await ds.rpc.make('native-triple', 5)).toBe(15)
    })

    it('sees it log in and out through presence', async () => {
      const a = await ada()
      // bob's sockets of the earlier tests are closed by the client, not yet perhaps by the server.
      await eventually(async () => expect(await a.presence.getAll(['bob'])).toEqual({ bob: false }))
      const events: string[] = []
      await a.presence.subscribe('bob', (_user, online) => events.push(String(online)))
      const ds = await connect(server, { token: 'token-for-bob-0123456789' })
      await eventually(() => expect(events).toEqual(['true']))
      ds.close()
      await eventually(() => expect(events).toEqual(['true', 'false']))
    })
  })
})

describe('riptide/client under Valve permissions', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      auth: [{ type: 'file', options: { path: 'users.yml' } }],
      permission: { type: 'config', options: { path: 'permissions.yml' } },
    }, DEFAULT_KIND, fileURLToPath(new URL('./fixtures/', import.meta.url)))
  })
  afterEach(() => closeNatives())
  afterAll(async () => { await server.close() })

  it('rejects each denied call with MESSAGE_DENIED, and reports a denied emit', async () => {
    const bob = await native(server, { username: 'bob', password: 'builder' })
    const errors: string[] = []
    bob.onError((error) => errors.push(`${(error as { code?: string }).code}: ${error.message}`))
    await expect(bob.record.get('secret/plans')).rejects.toMatchObject({ code: 'MESSAGE_DENIED' })
    await expect(bob.record.set('profile/alice', { bio: 'mine now' })).rejects.toMatchObject({ code: 'MESSAGE_DENIED' })
    await bob.record.set('profile/bob', { bio: 'mine' })
    await expect(bob.rpc.make('restricted')).rejects.toMatchObject({ code: 'MESSAGE_DENIED' })
    bob.event.emit('admin/shutdown', {})
    await eventually(() => expect(errors).toEqual(['MESSAGE_DENIED: MESSAGE_DENIED for "admin/shutdown"']))
  })
})

async function startOnPort (port: number, dataDir: string): Promise<Supervisor> {
  const { config, warnings } = validateConfig({
    logLevel: 'OFF',
    httpServer: { type: 'default', options: { host: '127.0.0.1', port } },
    cache: { type: 'lmdb', options: { path: dataDir } },
    storage: { type: 'none' },
  }, 'test config')
  return Supervisor.start({ config, file: null, configDir: process.cwd(), warnings }, { workers: Math.max(1, TEST_WORKERS), logger: new PinoLogger({ level: 'off' }) })
}

describe('riptide/client reconnection', () => {
  afterEach(() => {
    closeNatives()
    removeTempDirs()
  })

  it('reconnects after a server restart, restores subscriptions and providers, and sends what was written offline', async () => {
    const port = await freePort()
    const dataDir = makeTempDir()
    let supervisor = await startOnPort(port, dataDir)
    try {
      const server = { port }
      const a = await native(server)
      const states: string[] = []
      a.onStateChange((state) => states.push(state))
      const events: unknown[] = []
      await a.event.subscribe('after', (data) => events.push(data))
      await a.rpc.provide('ping', () => 'pong')
      const live = await a.record.get('survivor')
      await live.set({ step: 1 })

      await supervisor.close()
      await eventually(() => expect(states).toContain('reconnecting'))
      const offlineWrite = live.set({ step: 2 })
      a.event.emit('after', 'sent while offline') // local subscribers now; the server after reconnecting
      supervisor = await startOnPort(port, dataDir)
      await offlineWrite
      await eventually(() => expect(a.state).toBe('open'), 10_000)

      const b = await native(server)
      expect(await b.record.snapshot('survivor')).toEqual({ version: 2, data: { step: 2 } })
      expect(await b.rpc.make('ping')).toBe('pong')
      b.event.emit('after', 'after restart')
      await eventually(() => expect(events).toContain('after restart'))
      await b.record.set('survivor', 'step', 3)
      await eventually(() => expect([live.version, live.data]).toEqual([3, { step: 3 }]))
    } finally {
      closeNatives()
      await supervisor.close()
    }
  }, 30_000)

  it('fails calls that were waiting when the client is closed', async () => {
    const port = await freePort()
    const supervisor = await startOnPort(port, makeTempDir())
    try {
      const a = await native({ port })
      await supervisor.close()
      await eventually(() => expect(a.state).toBe('reconnecting'))
      const pending = a.record.snapshot('x')
      a.close()
      await expect(pending).rejects.toMatchObject({ code: 'CLIENT_CLOSED' })
    } finally {
      await supervisor.close()
    }
  })

  it('rejects RPCs in flight when the connection drops with CONNECTION_LOST, and sends those made while offline', async () => {
    const port = await freePort()
    let supervisor = await startOnPort(port, makeTempDir())
    try {
      const a = await native({ port })
      let reached = false
      await a.rpc.provide('slow', () => {
        reached = true
        return new Promise((resolve) => setTimeout(() => resolve('late'), 2000))
      })
      await a.rpc.provide('ping', () => 'pong')
      const inFlight = a.rpc.make('slow').catch((error: unknown) => error) // rejects while the server closes
      await eventually(() => expect(reached).toBe(true))
      await supervisor.close()
      expect(await inFlight).toMatchObject({ code: 'CONNECTION_LOST' })
      const offline = a.rpc.make('ping') // queued; sent after the providers are registered again
      supervisor = await startOnPort(port, makeTempDir())
      expect(await offline).toBe('pong')
    } finally {
      closeNatives()
      await supervisor.close()
    }
  }, 30_000)

  it('drops the oldest offline message past maxOfflineMessages and says so', async () => {
    const port = await freePort()
    const supervisor = await startOnPort(port, makeTempDir())
    try {
      const a = await native({ port }, {}, { maxOfflineMessages: 2 })
      const errors: string[] = []
      a.onError((error) => errors.push((error as { code?: string }).code ?? error.message))
      await supervisor.close()
      await eventually(() => expect(a.state).toBe('reconnecting'))
      for (let i = 0; i < 3; i++) a.event.emit('queued', i)
      expect(errors).toEqual(['OFFLINE_QUEUE_FULL'])
    } finally {
      await supervisor.close()
    }
  })

  it('gives up a login the server never answers, with LOGIN_TIMEOUT', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await new Promise((resolve) => wss.once('listening', resolve))
    try {
      const { port } = wss.address() as { port: number }
      const client = new RiptideClient(`ws://127.0.0.1:${port}/riptide`, { loginTimeout: 300 })
      natives.push(client)
      await expect(client.login()).rejects.toMatchObject({ name: 'LoginError', code: 'LOGIN_TIMEOUT' })
      expect(client.state).toBe('closed')
    } finally {
      for (const client of wss.clients) client.terminate()
      await new Promise((resolve) => wss.close(resolve))
    }
  })

  it('closes a connection whose server went silent, and reconnects', async () => {
    // A server that logs the client in, then never answers again (not even PONG).
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    await new Promise((resolve) => wss.once('listening', resolve))
    let connections = 0
    wss.on('connection', (ws) => {
      connections++
      ws.on('message', (data: Buffer) => {
        for (const message of decodeNativeFrame(new Uint8Array(data))) {
          if (message.action === CONNECTION_ACTION.CHALLENGE) ws.send(encodeNative({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.ACCEPT }))
          if (message.topic === TOPIC.AUTH) ws.send(encodeNative({ topic: TOPIC.AUTH, action: AUTH_ACTION.AUTH_SUCCESSFUL }))
        }
      })
    })
    try {
      const { port } = wss.address() as { port: number }
      const a = await native({ port }, {}, { heartbeatInterval: 100 })
      const states: string[] = []
      a.onStateChange((state) => states.push(state))
      await eventually(() => expect(connections).toBe(2), 3000)
      expect(states).toContain('reconnecting')
    } finally {
      closeNatives()
      for (const client of wss.clients) client.terminate()
      await new Promise((resolve) => wss.close(resolve))
    }
  })
})

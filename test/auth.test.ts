import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DeepstreamClient } from '@deepstream/client'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { closeClients, connect, KINDS, oneWorker, RawClient, startTestServer, url } from './helpers.js'
import type { TestServer } from './helpers.js'
import { hashPassword, type RiptideServer } from '../src/index.js'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

describe.each(KINDS)('file authentication over %s', (kind) => {
  let server: TestServer
  beforeAll(async () => {
    const hashed = await hashPassword('s3cret', { hash: 'sha256', iterations: 1000, keyLength: 32 })
    server = await startTestServer({
      auth: [{ type: 'file', options: { hash: 'sha256', iterations: 1000, keyLength: 32, users: { carol: { password: hashed, clientData: { team: 'red' } } } } }],
      connectionEndpoints: [{ type: 'ws-binary', options: { maxAuthAttempts: 2 } }],
    }, kind)
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('logs in with a pbkdf2 password and returns clientData', async () => {
    const client = new DeepstreamClient(url(server), { offlineEnabled: false })
    const clientData = await client.login({ username: 'carol', password: 's3cret' })
    expect(clientData).toEqual({ team: 'red' })
    client.close()
  })

  it('refuses wrong credentials, then closes after too many attempts', async () => {
    const raw = await RawClient.open(server)
    raw.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: url(server) })
    await raw.next((m) => m.action === CONNECTION_ACTION.ACCEPT)
    raw.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: '{"username":"carol","password":"wrong"}' })
    expect(await raw.next((m) => m.topic === TOPIC.AUTH)).toMatchObject({ action: AUTH_ACTION.AUTH_UNSUCCESSFUL })
    const closed = raw.closed()
    raw.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: '{"username":"nobody","password":"x"}' })
    // The last attempt is answered too, so the client's login() settles, and then the socket is told why it closes.
    expect(await raw.next((m) => m.topic === TOPIC.AUTH)).toMatchObject({ action: AUTH_ACTION.AUTH_UNSUCCESSFUL })
    expect(await raw.next((m) => m.topic === TOPIC.AUTH)).toMatchObject({ action: AUTH_ACTION.TOO_MANY_AUTH_ATTEMPTS })
    await closed
  })

  it('settles every login() of a stock client that keeps failing, up to the last', async () => {
    const client = new DeepstreamClient(url(server), { offlineEnabled: false, maxReconnectAttempts: 0 })
    client.on('error', () => {})
    for (let attempt = 1; attempt <= 2; attempt++) {
      await expect(client.login({ username: 'carol', password: `wrong ${attempt}` })).rejects.toEqual({ reason: 'INVALID_AUTHENTICATION_DETAILS' })
    }
    client.close()
  })

  it('rejects a login with wrong credentials through the client', async () => {
    const client = new DeepstreamClient(url(server), { offlineEnabled: false })
    client.on('error', () => {})
    await expect(client.login({ username: 'carol', password: 'nope' })).rejects.toEqual({ reason: 'INVALID_AUTHENTICATION_DETAILS' })
    client.close()
  })

  it('answers messages before the handshake with INVALID_MESSAGE and closes an unauthenticated client on timeout', async () => {
    const quick = await startTestServer({ connectionEndpoints: [{ type: 'ws-binary', options: { unauthenticatedClientTimeout: 150 } }] })
    const raw = await RawClient.open(quick)
    raw.send({ topic: TOPIC.EVENT, action: 2, name: 'x' })
    expect(await raw.next(() => true)).toMatchObject({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.INVALID_MESSAGE })
    expect(await raw.next(() => true, 2000)).toMatchObject({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.AUTHENTICATION_TIMEOUT })
    await raw.closed()
    await quick.close()
  })

  it('closes a client that sends nothing for twice the heartbeat interval', async () => {
    const quick = await startTestServer({ connectionEndpoints: [{ type: 'ws-binary', options: { heartbeatInterval: 100 } }] })
    const raw = await RawClient.login(quick)
    raw.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PING })
    expect(await raw.next(() => true)).toMatchObject({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PONG })
    await raw.closed()
    await quick.close()
  })

  it('keeps an anonymous login open with auth none', async () => {
    const open = await startTestServer()
    const client = await connect(open)
    expect(client.getConnectionState()).toBe('OPEN')
    closeClients()
    await open.close()
  })
})

describe('token authentication', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      auth: [{ type: 'token', options: { tokens: { 'tok-0123456789-abcdef': { id: 'dora', clientData: { plan: 'pro' }, serverData: { role: 'admin' } } } } }],
    })
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('logs in with a configured token as its user, and refuses others', async () => {
    const client = new DeepstreamClient(url(server), { offlineEnabled: false })
    expect(await client.login({ token: 'tok-0123456789-abcdef' })).toEqual({ plan: 'pro' })
    client.close()
    const intruder = new DeepstreamClient(url(server), { offlineEnabled: false, maxReconnectAttempts: 0 })
    intruder.on('error', () => {})
    await expect(intruder.login({ token: 'tok-0123456789-abcdeX' })).rejects.toEqual({ reason: 'INVALID_AUTHENTICATION_DETAILS' })
    intruder.close()
  })

  it('names a bad token entry at start-up', async () => {
    await expect(startTestServer({ auth: [{ type: 'token', options: { tokens: { short: { id: 'x' } } } }] })).rejects.toThrow(/auth token options\.tokens\.short: a token must be at least 16 characters/)
  })
})

describe('http authentication', () => {
  let server: TestServer
  let webhook: Server
  const requests: Array<{ body: { authData: Record<string, unknown>, connectionData: Record<string, unknown> }, headers: Record<string, unknown> }> = []
  let failuresLeft = 0
  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let text = ''
      req.on('data', (chunk: Buffer) => { text += chunk.toString() })
      req.on('end', () => {
        const body = JSON.parse(text) as { authData: Record<string, unknown>, connectionData: Record<string, unknown> }
        requests.push({ body, headers: req.headers })
        const { username } = body.authData
        if (username === 'slow') return // never answers
        if (failuresLeft > 0) { failuresLeft--; res.writeHead(504).end(); return }
        if (username === 'eve') { res.writeHead(401).end('no eavesdroppers'); return }
        if (username === 'plain') { res.writeHead(200).end('plain-id'); return }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: username, clientData: { greeting: `hi ${String(username)}` }, serverData: { role: 'user' } }))
      })
    })
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve))
    const port = (webhook.address() as AddressInfo).port
    server = await startTestServer({
      auth: [{ type: 'http', options: { endpointUrl: `http://127.0.0.1:${port}/auth`, retryStatusCodes: [504], retryAttempts: 2, retryInterval: 5, requestTimeout: 300, promoteToHeader: ['username'] } }],
    })
  })
  afterEach(() => closeClients())
  afterAll(async () => {
    await server.close()
    webhook.closeAllConnections()
    await new Promise((resolve) => webhook.close(resolve))
  })

  const login = async (authData: Record<string, unknown>): Promise<unknown> => {
    const client = new DeepstreamClient(url(server), { offlineEnabled: false, maxReconnectAttempts: 0 })
    client.on('error', () => {})
    try {
      return await client.login(authData)
    } finally {
      client.close()
    }
  }

  it('logs in with what the webhook answers, sending authData and connection data, with promoted headers', async () => {
    expect(await login({ username: 'ivy' })).toEqual({ greeting: 'hi ivy' })
    const last = requests[requests.length - 1]
    expect(last.body.authData).toEqual({ username: 'ivy' })
    expect(last.body.connectionData.remoteAddress).toBeDefined()
    expect(last.headers.username).toBe('ivy')
    expect(await login({ username: 'plain' })).toBeNull()
  })

  it('reports the address a proxy forwarded, for WebSocket logins and JIF requests, on both HTTP servers', async () => {
    const forwarded = '203.0.113.7, 10.0.0.1'
    for (const kind of KINDS) {
      const other = await startTestServer({ auth: [{ type: 'http', options: { endpointUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/auth` } }] }, kind)
      try {
        const raw = await RawClient.login(other, { username: `ws-${kind}` }, { 'x-forwarded-for': forwarded })
        raw.close()
        const fromSocket = requests.find((request) => request.body.authData.username === `ws-${kind}`)
        expect(fromSocket?.body.connectionData.remoteAddress, kind).toBe(forwarded)
        const response = await fetch(`http://127.0.0.1:${other.port}/api`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': forwarded },
          body: JSON.stringify({ authData: { username: `jif-${kind}` }, body: [{ topic: 'event', action: 'emit', eventName: 'x', data: 1 }] }),
        })
        expect(response.status, kind).toBe(200)
        const fromJif = requests.find((request) => request.body.authData.username === `jif-${kind}`)
        expect(fromJif?.body.connectionData.remoteAddress, kind).toBe(forwarded)
        // Without the header: the socket's own address.
        const plain = await RawClient.login(other, { username: `plain-${kind}` })
        plain.close()
        expect(requests.find((request) => request.body.authData.username === `plain-${kind}`)?.body.connectionData.remoteAddress, kind).toMatch(/127\.0\.0\.1/)
      } finally {
        await other.close()
      }
    }
  })

  it('refuses with the webhook\'s answer, retries what it is told to retry, and gives up on a silent webhook', async () => {
    await expect(login({ username: 'eve' })).rejects.toEqual({ reason: { error: 'no eavesdroppers' } })
    failuresLeft = 2
    const before = requests.length
    expect(await login({ username: 'patient' })).toEqual({ greeting: 'hi patient' })
    expect(requests.length - before).toBe(3)
    await expect(login({ username: 'slow' })).rejects.toEqual({ reason: { error: 'authentication service unavailable' } })
  })
})

describe('password hashing off the event loop', () => {
  it('serves other clients while a slow pbkdf2 login is being checked', async () => {
    const settings = { hash: 'sha512', iterations: 600_000, keyLength: 64 }
    const hashed = await hashPassword('patience', settings)
    const server = await startTestServer({ auth: [{ type: 'file', options: { ...settings, users: { slow: { password: hashed } } } }] })
    try {
      const order: string[] = []
      const slow = new DeepstreamClient(url(oneWorker(server)), { offlineEnabled: false })
      const login = slow.login({ username: 'slow', password: 'patience' }).then(() => order.push('slow login'))
      // Connect to the same worker when there are several, so the check is about one event loop.
      const raw = await RawClient.open(oneWorker(server))
      raw.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: url(server) })
      await raw.next((m) => m.action === CONNECTION_ACTION.ACCEPT)
      order.push('other client answered')
      await login
      expect(order).toEqual(['other client answered', 'slow login'])
      slow.close()
      raw.close()
    } finally {
      await server.close()
    }
  }, 30_000)
})

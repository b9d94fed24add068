import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DeepstreamClient } from '@deepstream/client'
import { closeClients, connect, RawClient, startTestServer, url } from './helpers.js'
import type { TestServer } from './helpers.js'
import { hashPassword, type RiptideServer } from '../src/index.js'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

describe('file authentication', () => {
  let server: TestServer
  beforeAll(async () => {
    const hashed = await hashPassword('s3cret', { hash: 'sha256', iterations: 1000, keyLength: 32 })
    server = await startTestServer({
      auth: [{ type: 'file', options: { hash: 'sha256', iterations: 1000, keyLength: 32, users: { carol: { password: hashed, clientData: { team: 'red' } } } } }],
      connectionEndpoints: [{ type: 'ws-binary', options: { maxAuthAttempts: 2 } }],
    })
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
    expect(await raw.next((m) => m.topic === TOPIC.AUTH)).toMatchObject({ action: AUTH_ACTION.TOO_MANY_AUTH_ATTEMPTS })
    await closed
  })

  it('rejects a login with wrong credentials through the client', async () => {
    const client = new DeepstreamClient(url(server), { offlineEnabled: false })
    client.on('error', () => {})
    await expect(client.login({ username: 'carol', password: 'nope' })).rejects.toBeDefined()
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

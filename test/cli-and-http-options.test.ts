/**
 * Options a deployment sets once and rarely looks at again: `riptide hash`, the start flags that
 * open a server, an auth chain, the health check and endpoint paths, and CORS.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { DeepstreamClient } from '@deepstream/client'
import { closeClients, connect, killChildren, makeTempDir, RawClient, removeTempDirs, spawnServer, startTestServer, url, type Reachable } from './helpers.js'
import { AUTH_ACTION, CONNECTION_ACTION, EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

const CLI = fileURLToPath(new URL('../dist/src/main/cli.js', import.meta.url))
const run = promisify(execFile)

/** What a stock client's login settles with: its client data, or the reason it was refused. */
async function login (server: Reachable, auth: Record<string, unknown>): Promise<unknown> {
  const client = new DeepstreamClient(url(server), { offlineEnabled: false, maxReconnectAttempts: 0 })
  client.on('error', () => {})
  try {
    return await client.login(auth)
  } catch (refusal) {
    return refusal
  } finally {
    client.close()
  }
}

const REFUSED = { reason: 'INVALID_AUTHENTICATION_DETAILS' }

describe('the command line', () => {
  afterEach(async () => {
    closeClients()
    await killChildren()
    removeTempDirs()
  })

  it('hashes a password with the file auth settings of the config, which file auth then accepts', async () => {
    const dir = makeTempDir()
    const config = join(dir, 'config.yml')
    const auth = (password: string): string => `auth:\n  - type: file\n    options:\n      hash: sha256\n      iterations: 1000\n      keyLength: 32\n      users:\n        ada:\n          password: "${password}"\n          clientData: { team: blue }\n`
    writeFileSync(config, auth('not yet'))
    const { stdout } = await run(process.execPath, [CLI, 'hash', 'correct horse', '--config', config])
    const hashed = stdout.trim()
    // deepstream's format: base64 of a 32-byte key, then base64 of a 16-byte salt.
    expect(hashed).toMatch(/^[A-Za-z0-9+/]{43}=[A-Za-z0-9+/]{22}==$/)
    writeFileSync(config, auth(hashed))
    const server = await spawnServer(config, ['--workers', '1'])
    expect(await login(server, { username: 'ada', password: 'correct horse' })).toEqual({ team: 'blue' })
    expect(await login(server, { username: 'ada', password: 'correct horse ' })).toEqual(REFUSED)
  })

  it('opens a server whose config refuses everyone with --disable-auth and --disable-permissions', async () => {
    const dir = makeTempDir()
    const config = join(dir, 'config.yml')
    writeFileSync(join(dir, 'permissions.yml'), 'event:\n  "*":\n    publish: false\n    subscribe: false\n')
    writeFileSync(config, 'auth:\n  - type: file\n    options:\n      users: {}\npermission:\n  type: config\n  options:\n    path: permissions.yml\n')
    const closed = await spawnServer(config, ['--workers', '1'])
    expect(await login(closed, { username: 'ada', password: 'pw' })).toEqual(REFUSED)
    const open = await spawnServer(config, ['--workers', '1', '--disable-auth', '--disable-permissions'])
    const raw = await RawClient.login(open, {})
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['news'], correlationId: 's' })
    expect(await raw.next((m) => m.correlationId === 's')).toMatchObject({ isAck: true })
    const publisher = await connect(open)
    publisher.event.emit('news', 'hello')
    expect(await raw.next((m) => m.action === EVENT_ACTION.EMIT)).toMatchObject({ name: 'news', data: '"hello"' })
    raw.close()
  })
})

describe('server options', () => {
  afterEach(() => {
    closeClients()
    removeTempDirs()
  })

  it('tries each auth of a chain in turn: a token user, a file user, and nobody else', async () => {
    const server = await startTestServer({
      auth: [
        { type: 'token', options: { tokens: { 'token-of-the-robot-0123': { id: 'robot', clientData: { via: 'token' } } } } },
        { type: 'file', options: { users: { ada: { password: 'pw', clientData: { via: 'file' } } } } },
      ],
    })
    try {
      expect(await login(server, { token: 'token-of-the-robot-0123' })).toEqual({ via: 'token' })
      expect(await login(server, { username: 'ada', password: 'pw' })).toEqual({ via: 'file' })
      expect(await login(server, { username: 'ada', password: 'no' })).toEqual(REFUSED)
      expect(await login(server, { token: 'not-a-token-of-anyone-00' })).toEqual(REFUSED)
    } finally {
      await server.close()
    }
  })

  it('authenticates JIF requests with the auth chain and checks each item against the permission rules', async () => {
    const server = await startTestServer({
      auth: [{ type: 'file', options: { users: { ada: { password: 'pw' } } } }],
      permission: { type: 'config', options: { permissions: { event: { '*': { publish: true, subscribe: true }, 'closed/*': { publish: false } }, record: { '*': { create: true, write: "user.id === 'ada'", read: true } } } } },
    })
    try {
      const jif = async (authData: Record<string, unknown>, body: unknown[]): Promise<{ status: number, text: string }> => {
        const response = await fetch(`http://127.0.0.1:${server.port}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ authData, body }) })
        return { status: response.status, text: await response.text() }
      }
      const emit = (eventName: string): Record<string, unknown> => ({ topic: 'event', action: 'emit', eventName, data: 1 })
      expect(await jif({ username: 'ada', password: 'wrong' }, [emit('open/a')])).toMatchObject({ status: 401 })
      const answer = await jif({ username: 'ada', password: 'pw' }, [emit('open/a'), emit('closed/a'), { topic: 'record', action: 'write', recordName: 'jif/mine', data: { by: 'ada' } }])
      expect(answer.status).toBe(200)
      const { result, body } = JSON.parse(answer.text) as { result: string, body: Array<Record<string, unknown>> }
      expect(result).toBe('PARTIAL_SUCCESS')
      expect(body[0]).toEqual({ success: true })
      expect(body[1]).toMatchObject({ success: false, errorEvent: 'MESSAGE_DENIED' })
      expect(body[2]).toEqual({ success: true })
    } finally {
      await server.close()
    }
  })

  it('answers the health check on healthCheckPath and WebSockets on an endpoint urlPath only', async () => {
    const server = await startTestServer({ httpServer: { options: { healthCheckPath: '/alive' } }, connectionEndpoints: [{ type: 'ws-binary', options: { urlPath: '/ds' } }] })
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/alive`)).status).toBe(200)
      expect((await fetch(`http://127.0.0.1:${server.port}/health-check`)).status).toBe(404)
      const raw = await RawClient.open(server, '/ds')
      raw.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: url(server, '/ds') })
      await raw.next((m) => m.action === CONNECTION_ACTION.ACCEPT)
      raw.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: '{}' })
      expect(await raw.next((m) => m.topic === TOPIC.AUTH)).toMatchObject({ action: AUTH_ACTION.AUTH_SUCCESSFUL })
      raw.close()
      await expect(RawClient.open(server, '/deepstream')).rejects.toThrow(/Unexpected server response: 404/)
    } finally {
      await server.close()
    }
  })

  it('answers CORS for any origin by default, and only for the listed origins otherwise', async () => {
    const open = await startTestServer({})
    const listed = await startTestServer({ httpServer: { options: { allowAllOrigins: false, origins: ['https://app.example'] } } })
    try {
      const health = (server: Reachable, origin: string): Promise<Response> => fetch(`http://127.0.0.1:${server.port}/health-check`, { headers: { origin } })
      expect((await health(open, 'https://anyone.example')).headers.get('access-control-allow-origin')).toBe('*')
      const allowed = await health(listed, 'https://app.example')
      expect(allowed.status).toBe(200)
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true')
      const other = await health(listed, 'https://evil.example')
      expect(other.status).toBe(403)
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
      const preflight = await fetch(`http://127.0.0.1:${listed.port}/api`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } })
      expect(preflight.status).toBe(200)
      expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/)
    } finally {
      await open.close()
      await listed.close()
    }
  })
})

/**
 * A user-supplied plugin of each kind, loaded by path and by npm name the way a config names it,
 * under `riptide start --workers 2`: authentication, permission (deepstream's callback API, as a
 * CommonJS package), cache (deepstream's callback API, under an @deepstream/ name), storage,
 * logger (given deepstream's numeric level), monitoring, locks (deepstream's callback API),
 * cluster node and a custom plugin. Then the user's cluster node alone carries events, RPC and
 * presence between two workers.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { randomUUID } from 'node:crypto'
import { DeepstreamClient } from '@deepstream/client'
import WebSocket from 'ws'
import { AUTH_ACTION, CONNECTION_ACTION, EVENT_ACTION, TOPIC } from '../src/index.js'
import { closeClients, connect, DEFAULT_KIND, eventually, killChildren, makeTempDir, removeTempDirs, spawnServer, startTestServer, workerPort, type TestServer } from './helpers.js'

const fixtures = resolve('test/fixtures/plugins')
let server: TestServer | null = null
afterEach(async () => {
  closeClients()
  await killChildren()
  await server?.close()
  server = null
  removeTempDirs()
})

/** Writes an npm package into `<dir>/node_modules/<name>`. */
function writePackage (dir: string, name: string, main: string, source: string, type: 'commonjs' | 'module'): void {
  const root = join(dir, 'node_modules', name)
  mkdirSync(root, { recursive: true })
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', main, type }))
  writeFileSync(join(root, main), source)
}

/** Packages written as deepstream's plugins are: CommonJS, the class at exports.default, callbacks. */
function writePackages (dir: string): void {
  writePackage(dir, 'deepstream.io-permission-lockedprefix', 'index.js', `
class PrefixPermission {
  constructor (options, services) { this.description = 'locked prefix'; this.prefix = options.prefix; this.logger = services.logger.getNameSpace('PREFIX') }
  async whenReady () {}
  async close () {}
  canPerformAction (socketWrapper, message, callback, passItOn) {
    callback(socketWrapper, message, passItOn, null, !String(message.name).startsWith(this.prefix))
  }
}
exports.default = PrefixPermission
`, 'commonjs')
  writePackage(dir, '@deepstream/cache-threadmap', 'index.js', `
class ThreadMapCache {
  constructor (options, services, config) { this.description = 'thread map cache'; this.records = new Map(); this.logger = services.logger.getNameSpace('THREADMAP'); this.hasConfig = typeof config === 'object' }
  async whenReady () {}
  async close () {}
  get (name, callback) { const r = this.records.get(name); setImmediate(() => r ? callback(null, r.version, JSON.parse(r.data)) : callback(null, -1, null)) }
  set (name, version, data, callback) { this.records.set(name, { version, data: JSON.stringify(data) }); setImmediate(() => callback(null)) }
  delete (name, callback) { this.records.delete(name); setImmediate(() => callback(null)) }
  deleteBulk (names, callback) { for (const name of names) this.records.delete(name); setImmediate(() => callback(null)) }
  headBulk (names, callback) {
    const versions = {}; const missing = []
    for (const name of names) { const r = this.records.get(name); if (r) versions[name] = r.version; else missing.push(name) }
    setImmediate(() => callback(null, versions, missing))
  }
}
exports.default = ThreadMapCache
`, 'commonjs')
  writePackage(dir, 'deepstream.io-locks-memo', 'index.js', `
class MemoLocks {
  constructor () { this.description = 'memo locks'; this.held = new Set() }
  async whenReady () {}
  async close () {}
  get (name, callback) { const free = !this.held.has(name); if (free) this.held.add(name); setImmediate(() => callback(free)) }
  release (name) { this.held.delete(name) }
}
exports.default = MemoLocks
`, 'commonjs')
  writePackage(dir, 'riptide-monitoring-counter', 'index.mjs', `
export default class CounterMonitoring {
  constructor () { this.description = 'login counter'; this.logins = 0 }
  async whenReady () {}
  async close () {}
  onErrorLog () {}
  onLogin (allowed) { if (allowed) this.logins++ }
  onMessageReceived () {}
  onMessageSend () {}
  onBroadcast () {}
  attach (host) { host.get('/counter', () => ({ status: 200, body: JSON.stringify({ logins: this.logins, worker: host.serverName }) })) }
}
`, 'module')
}

/** An event, an RPC and presence between a client on worker 0 and one on worker 1. */
async function acrossWorkers (on: TestServer, name: string): Promise<void> {
  const options = { subscriptionInterval: 0 }
  const [a, b] = [await connect(workerPort(on, 0), { username: 'ada' }, options), await connect(workerPort(on, 1), { username: 'bob' }, options)]
  const heard: unknown[] = []
  b.event.subscribe(name, (data: unknown) => heard.push(data))
  await eventually(() => {
    a.event.emit(name, 'hello')
    expect(heard).toContain('hello')
  })
  b.rpc.provide(name, (n: number, response: { send: (v: unknown) => void }) => response.send(n * 2))
  await eventually(async () => expect(await a.rpc.make(name, 21)).toBe(42))
  await eventually(async () => expect(await a.presence.getAll()).toContain('bob'))
}

describe('every plugin kind replaced', () => {
  it('starts riptide start --workers 2 with plugins of every kind by path and by npm name, and uses each', async () => {
    const dir = makeTempDir()
    writePackages(dir)
    const log = join(dir, 'riptide.log')
    writeFileSync(join(dir, 'config.yml'), `
logLevel: INFO
auth: { path: ${join(fixtures, 'token-auth.mjs')}, options: { realm: north } }
permission: { name: lockedprefix, options: { prefix: locked/ } }
cache: { name: threadmap }
storage: { path: ${join(fixtures, 'map-storage.mjs')} }
logger: { path: ${join(fixtures, 'line-logger.mjs')}, options: { file: ${log} } }
monitoring: { name: counter }
locks: { name: memo }
clusterNode: { path: ${join(fixtures, 'broadcast-cluster-node.mjs')}, options: { channel: ${randomUUID()} } }
plugins:
  marker: { path: ${resolve('test/fixtures/marker-plugin.mjs')}, options: { label: replaced } }
`)
    const child = await spawnServer(join(dir, 'config.yml'), ['--workers', '2'])
    const client = new DeepstreamClient(`ws://127.0.0.1:${child.port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0 })
    client.on('error', () => {})
    try {
      expect(await client.login({ ticket: 'pass-ada' })).toEqual({ realm: 'north' })
      await client.record.setDataWithAck('open/1', { n: 1 })
      expect(await client.record.snapshot('open/1')).toEqual({ n: 1 })
      await expect(client.record.setDataWithAck('locked/1', { n: 1 })).rejects.toBe('MESSAGE_DENIED')
      expect(await (await fetch(`http://127.0.0.1:${child.port}/marker`)).text()).toBe('replaced')
      const counted = await (await fetch(`http://127.0.0.1:${child.port}/counter`)).json() as { logins: number, worker: string }
      expect(counted.worker).toMatch(/\/[01]$/)
    } finally {
      client.close()
    }
    const refused = new DeepstreamClient(`ws://127.0.0.1:${child.port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0 })
    refused.on('error', () => {})
    await expect(refused.login({ ticket: 'forged' })).rejects.toEqual({ reason: { error: 'no ticket' } })
    refused.close()
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { level: string, event: string })
    // Both workers log through the user's logger, at the config's level (INFO: no debug lines).
    expect(lines.filter((line) => line.event === 'CACHE_WITHOUT_COMPARE_AND_SET')).toHaveLength(2)
    expect(lines.some((line) => line.level === 'debug')).toBe(false)
  })

  it('runs events, RPC and presence between two workers over the user\'s own cluster node', async () => {
    server = await startTestServer({
      clusterNode: { path: join(fixtures, 'broadcast-cluster-node.mjs'), options: { channel: randomUUID() } },
    }, DEFAULT_KIND, process.cwd(), 2)
    await acrossWorkers(server, 'across')
  })

  it('serves a user\'s own connection endpoint beside ws-json, each subscriber getting its own encoding', async () => {
    server = await startTestServer({
      connectionEndpoints: [{ type: 'ws-binary' }, { type: 'ws-json' }, { path: join(fixtures, 'envelope-endpoint.mjs'), options: { path: '/envelope' } }],
    }, DEFAULT_KIND, process.cwd(), 2)
    const open = async (path: string): Promise<{ ws: WebSocket, frames: string[] }> => {
      const ws = new WebSocket(`ws://127.0.0.1:${workerPort(server as TestServer, 0).port}${path}`)
      const frames: string[] = []
      ws.on('message', (data: Buffer) => frames.push(data.toString()))
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
      return { ws, frames }
    }
    const wrap = (path: string, message: object): string => (path === '/envelope' ? JSON.stringify({ m: message }) : JSON.stringify(message))
    const clients = await Promise.all(['/envelope', '/deepstream-json'].map(async (path) => {
      const client = await open(path)
      client.ws.send(wrap(path, { topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: path }))
      client.ws.send(wrap(path, { topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: '{"username":"u"}' }))
      // As a client must: messages sent before the auth answer are not served.
      await eventually(() => expect(client.frames).toContain(wrap(path, { topic: TOPIC.AUTH, action: AUTH_ACTION.AUTH_SUCCESSFUL })))
      client.ws.send(wrap(path, { topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['both'], correlationId: '0' }))
      await eventually(() => expect(client.frames).toContain(wrap(path, { topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, correlationId: '0', isAck: true })))
      return { path, ...client }
    }))
    const publisher = await connect(workerPort(server, 1), { username: 'p' }, { subscriptionInterval: 0 })
    await eventually(() => {
      publisher.event.emit('both', 'hi')
      for (const { path, frames } of clients) expect(frames).toContain(wrap(path, { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'both', data: '"hi"' }))
    })
    for (const { ws } of clients) ws.terminate()
  })

  it('runs events, RPC and presence between two workers on the user\'s own cluster registry, state registries and subscription registries', async () => {
    const log = join(makeTempDir(), 'subscriptions.log')
    server = await startTestServer({
      clusterRegistry: { path: join(fixtures, 'gossip-cluster-registry.mjs') },
      clusterStates: { path: join(fixtures, 'gossip-state-registry.mjs') },
      subscriptions: { path: join(fixtures, 'counting-subscriptions.mjs'), options: { file: log } },
    }, DEFAULT_KIND, process.cwd(), 2)
    await acrossWorkers(server, 'gossip')
    expect(readFileSync(log, 'utf8')).toContain('subscribe event gossip')
  })
})

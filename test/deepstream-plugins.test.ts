/**
 * deepstream's own plugins from npm, loaded unchanged: `@deepstream/cache-redis` 2.0.9 against a
 * real redis-server and `@deepstream/storage-postgres` 3.0.4 against a real PostgreSQL, named the
 * deepstream way in a deepstream 7 config (`cache: { name: redis }`). They pass the cache and
 * storage conformance suites through riptide's callback adapter, and serve records to stock
 * clients on 2 workers, where each version is still decided once.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DeepstreamClient } from '@deepstream/client'
import { RiptideClient } from 'riptide/client'
import { createPlugin, type ClusterContext } from '../src/native-free-core/builtins.js'
import type { Cache, Storage } from '../src/index.js'
import { loadConfigFile } from '../src/index.js'
import { Supervisor } from '../src/main/supervisor.js'
import { PinoLogger } from '../src/native-free-core/plugins/logger/pino-logger.js'
import { cacheSuite, storageSuite } from '../src/conformance/index.js'
import { eventually, makeTempDir, removeTempDirs, workerPort } from './helpers.js'
import { servicesMissing, startPostgres, startRedis, type Service } from './services.js'

const services: { redis?: Service, postgres?: Service } = {}

function deepstreamConfig (dir: string): string {
  const file = join(dir, 'config.yml')
  writeFileSync(file, `
logLevel: OFF
showLogo: false
cache:
  name: redis
  options: { host: 127.0.0.1, port: ${services.redis?.port} }
storage:
  name: postgres
  options: { user: postgres, database: riptide, host: 127.0.0.1, port: ${services.postgres?.port}, schema: ds, max: 4, writeInterval: 20, idleTimeoutMillis: 1000 }
`)
  return file
}

/** Builds one plugin from the deepstream config the way the server does (by npm name). */
async function plugin<T> (kind: 'cache' | 'storage'): Promise<T> {
  const loaded = loadConfigFile(deepstreamConfig(makeTempDir()))
  const context = { serverName: 'test', config: loaded.config, configDir: loaded.configDir, logger: new PinoLogger({ level: 'off' }) } as unknown as ClusterContext
  return createPlugin(kind, loaded.config[kind], context) as Promise<T>
}

// Under CI (.ci/run installs both servers) a missing server fails the run instead of skipping.
describe.skipIf(servicesMissing !== '' && process.env.CI !== 'true')(`deepstream's npm plugins${servicesMissing}`, () => {
  beforeAll(async () => {
    [services.redis, services.postgres] = await Promise.all([startRedis(), startPostgres()])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([services.redis?.stop(), services.postgres?.stop()])
    removeTempDirs()
  })

  cacheSuite('@deepstream/cache-redis', () => plugin<Cache>('cache'), { compareAndSet: false })
  storageSuite('@deepstream/storage-postgres', () => plugin<Storage>('storage'))

  it('keeps records in deepstream\'s Redis layout: <name>_v for the version, <name>_d for the data', async () => {
    const cache = await plugin<Cache>('cache')
    await cache.whenReady()
    await cache.set('layout/1', 7, { a: 1 })
    const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(services.redis?.port), ...args]).toString().trim()
    expect(cli('GET', 'layout/1_v')).toBe('7')
    expect(JSON.parse(cli('GET', 'layout/1_d'))).toEqual({ a: 1 })
    await cache.close()
  })

  describe('under riptide start with 2 workers', () => {
    let supervisor: Supervisor
    const clients: DeepstreamClient[] = []
    const connect = async (worker: number): Promise<DeepstreamClient> => {
      const client = new DeepstreamClient(`ws://127.0.0.1:${workerPort({ supervisor, port: supervisor.port, close: async () => {} }, worker).port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0 })
      client.on('error', () => {})
      clients.push(client)
      await client.login({})
      return client
    }
    beforeAll(async () => {
      const loaded = loadConfigFile(deepstreamConfig(makeTempDir()))
      loaded.config.httpServer.options.host = '127.0.0.1'
      loaded.config.httpServer.options.port = 0
      supervisor = await Supervisor.start({ ...loaded, warnings: [] }, { workers: 2, logger: new PinoLogger({ level: 'off' }), ownPorts: true })
    }, 30_000)
    afterEach(() => { for (const client of clients.splice(0)) client.close() })
    afterAll(async () => { await supervisor?.close() })

    it('writes and reads records through Redis and PostgreSQL from both workers', async () => {
      const [a, b] = await Promise.all([connect(0), connect(1)])
      await a.record.setDataWithAck('plugins/1', { from: 'worker 0' })
      expect(await b.record.snapshot('plugins/1')).toEqual({ from: 'worker 0' })
      await b.record.setDataWithAck('plugins/1', 'more', true)
      expect(await a.record.head('plugins/1')).toBe(2)
      expect(await a.record.snapshot('plugins/1')).toEqual({ from: 'worker 0', more: true })
    })

    it('decides each version once when both workers write the same record at once', async () => {
      const [a, b] = await Promise.all([connect(0), connect(1)])
      const ra = a.record.getRecord('plugins/race')
      const rb = b.record.getRecord('plugins/race')
      await Promise.all([ra.whenReady(), rb.whenReady()])
      // 20 rounds of two concurrent setData writes: every write gets its own version.
      for (let round = 0; round < 20; round++) {
        await Promise.all([a.record.setDataWithAck('plugins/counter', { round, by: 'a' }), b.record.setDataWithAck('plugins/counter', { round, by: 'b' })])
      }
      expect(await a.record.head('plugins/counter')).toBe(40)
    })

    it('reads a record back from PostgreSQL once Redis has lost it', async () => {
      const a = await connect(0)
      await a.record.setDataWithAck('plugins/durable', { kept: 'in postgres' })
      execFileSync('redis-cli', ['-p', String(services.redis?.port), 'FLUSHALL'])
      const b = await connect(1)
      expect(await b.record.snapshot('plugins/durable')).toEqual({ kept: 'in postgres' })
    })
  })

  it('carries events, RPC and presence between 2 workers over @deepstream/clusternode-redis', async () => {
    const dir = makeTempDir()
    writeFileSync(join(dir, 'config.yml'), `logLevel: OFF\nclusterNode:\n  name: redis\n  options: { host: 127.0.0.1, port: ${services.redis?.port} }\n`)
    const loaded = loadConfigFile(join(dir, 'config.yml'))
    loaded.config.httpServer.options.host = '127.0.0.1'
    loaded.config.httpServer.options.port = 0
    const supervisor = await Supervisor.start({ ...loaded, warnings: [] }, { workers: 2, logger: new PinoLogger({ level: 'off' }), ownPorts: true })
    const opened: DeepstreamClient[] = []
    const natives: RiptideClient[] = []
    try {
      const connect = async (worker: number, username: string): Promise<DeepstreamClient> => {
        const client = new DeepstreamClient(`ws://127.0.0.1:${supervisor.ownPorts[worker]}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0, subscriptionInterval: 0 })
        client.on('error', () => {})
        opened.push(client)
        await client.login({ username })
        return client
      }
      const [a, b] = [await connect(0, 'ada'), await connect(1, 'bob')]
      const heard: unknown[] = []
      b.event.subscribe('over-redis', (data: unknown) => heard.push(data))
      await eventually(() => {
        a.event.emit('over-redis', { bytes: 'no' })
        expect(heard).toContainEqual({ bytes: 'no' })
      })
      b.rpc.provide('plus-one', (n: number, response: { send: (v: unknown) => void }) => response.send(n + 1))
      await eventually(async () => expect(await a.rpc.make('plus-one', 41)).toBe(42))
      await eventually(async () => expect(await a.presence.getAll()).toContain('bob'))
      // Bytes from the native protocol cross Redis's JSON intact.
      const [sender, receiver] = [new RiptideClient(`ws://127.0.0.1:${supervisor.ownPorts[0]}/riptide`), new RiptideClient(`ws://127.0.0.1:${supervisor.ownPorts[1]}/riptide`)]
      natives.push(sender, receiver)
      await Promise.all([sender.login({ username: 'cy' }), receiver.login({ username: 'di' })])
      const blobs: unknown[] = []
      await receiver.event.subscribe('blobs', (data: unknown) => blobs.push(data))
      await eventually(() => {
        sender.event.emit('blobs', new Uint8Array([0, 255, 7]))
        expect(blobs).toContainEqual(new Uint8Array([0, 255, 7]))
      })
    } finally {
      for (const client of opened) client.close()
      for (const client of natives) client.close()
      await supervisor.close()
    }
  })
})

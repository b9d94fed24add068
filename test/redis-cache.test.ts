/**
 * riptide's own Redis cache (`cache: { type: redis }`) against a real redis-server: deepstream's
 * Redis layout (`<name>_v`, `<name>_d`), versions decided once in Redis by a compare-and-set
 * script across hosts (two riptide servers sharing nothing but Redis), records shared both ways
 * with deepstream 7.0.2 running `@deepstream/cache-redis`, and a Redis that dies and comes back.
 */
import { describe, expect, it } from 'vitest'
import { DeepstreamClient } from '@deepstream/client'
import { cacheSuite } from '../src/conformance/index.js'
import { RedisCache } from '../src/native-adapters/redis/redis-cache.js'
import { PinoLogger } from '../src/native-free-core/plugins/logger/pino-logger.js'
import { startDeepstream, ADA } from './differential/peers.js'
import { connect, eventually, makeTempDir, startTestServer, type Reachable, type TestServer } from './helpers.js'
import { servicesMissing, useRedis } from './services.js'

/** One JIF request to `server`; the body of its answer. */
async function jif (server: Reachable, body: unknown[]): Promise<{ result: string, body: Array<Record<string, unknown>> }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body }) })
  return await response.json() as { result: string, body: Array<Record<string, unknown>> }
}

describe.skipIf(servicesMissing !== '' && process.env.CI !== 'true')(`the redis cache${servicesMissing}`, () => {
  const redis = useRedis()

  async function host (): Promise<TestServer> {
    const server = await startTestServer({ cache: { type: 'redis', options: { url: redis.url() } }, storage: { type: 'none' } })
    redis.servers.push(server)
    return server
  }

  // The plugin alone, on a database of its own that each test starts empty.
  cacheSuite('redis', async () => {
    await redis.client.select(3)
    await redis.client.flushdb()
    await redis.client.select(0)
    return new RedisCache({ url: redis.url(3) }, new PinoLogger({ level: 'off' }))
  })

  it('keeps records in deepstream\'s layout, <name>_v and <name>_d, and serves them to another host', async () => {
    const [a, b] = await Promise.all([host(), host()])
    const writer = await connect(a)
    const record = writer.record.getRecord('layout/one')
    await record.whenReady()
    await record.setWithAck({ city: 'London', tags: ['a'] })
    expect(await redis.client.get('layout/one_v')).toBe('1')
    expect(JSON.parse(await redis.client.get('layout/one_d') ?? 'null')).toEqual({ city: 'London', tags: ['a'] })

    const reader = await connect(b)
    expect(await reader.record.snapshot('layout/one')).toEqual({ city: 'London', tags: ['a'] })
    expect(await reader.record.head('layout/one')).toBe(1)
    expect(await reader.record.has('layout/missing')).toBe(false)

    const gone = reader.record.getRecord('layout/one')
    await gone.whenReady()
    await gone.delete()
    await eventually(async () => expect(await redis.client.exists('layout/one_v', 'layout/one_d')).toBe(0))
  })

  it('decides each version once when two hosts race to write it', async () => {
    const [a, b] = await Promise.all([host(), host()])
    const names = Array.from({ length: 20 }, (_, i) => `race/${i}`)
    const write = (server: Reachable, by: string): Promise<{ body: Array<Record<string, unknown>> }> =>
      jif(server, names.map((recordName) => ({ topic: 'record', action: 'write', recordName, version: 1, data: { by } })))
    const [fromA, fromB] = await Promise.all([write(a, 'a'), write(b, 'b')])
    for (const [i, name] of names.entries()) {
      const wins = [fromA.body[i].success, fromB.body[i].success]
      expect(wins.filter(Boolean), name).toHaveLength(1)
      const winner = wins[0] === true ? 'a' : 'b'
      const loser = wins[0] === true ? fromB.body[i] : fromA.body[i]
      // deepstream's JIF answer to a version conflict: VERSION_EXISTS's number and what won.
      expect(loser, name).toMatchObject({ success: false, errorEvent: 102, currentVersion: 1, currentData: { by: winner } })
      expect(JSON.parse(await redis.client.get(`${name}_d`) ?? 'null')).toEqual({ by: winner })
      expect(await redis.client.get(`${name}_v`)).toBe('1')
    }
  })

  it('reads and updates what deepstream 7.0.2 wrote with @deepstream/cache-redis on the same Redis, and the other way round', async () => {
    const deepstream = await startDeepstream(makeTempDir(), { extraConfig: `cache: { name: redis, options: { host: 127.0.0.1, port: ${redis.server.port} } }` })
    redis.servers.push(deepstream)
    const riptide = await host()
    const viaDeepstream = async (): Promise<DeepstreamClient> => {
      const client = new DeepstreamClient(`ws://127.0.0.1:${deepstream.port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0, recordDiscardTimeout: 0 })
      client.on('error', () => {})
      await client.login(ADA)
      return client
    }

    const ds = await viaDeepstream()
    const fromDeepstream = ds.record.getRecord('interop/by-deepstream')
    await fromDeepstream.whenReady()
    await fromDeepstream.setWithAck({ from: 'deepstream' })
    const rt = await connect(riptide)
    const seen = rt.record.getRecord('interop/by-deepstream')
    await seen.whenReady()
    expect(seen.get()).toEqual({ from: 'deepstream' })
    expect(seen.version).toBe(1)
    await seen.setWithAck('then', 'riptide')
    expect(await redis.client.get('interop/by-deepstream_v')).toBe('2')

    const fromRiptide = rt.record.getRecord('interop/by-riptide')
    await fromRiptide.whenReady()
    await fromRiptide.setWithAck({ from: 'riptide' })
    // A fresh deepstream client reads both from Redis, and its write lands where riptide reads.
    const later = await viaDeepstream()
    expect(await later.record.snapshot('interop/by-deepstream')).toEqual({ from: 'deepstream', then: 'riptide' })
    const inDeepstream = later.record.getRecord('interop/by-riptide')
    await inDeepstream.whenReady()
    expect(inDeepstream.get()).toEqual({ from: 'riptide' })
    await inDeepstream.setWithAck('then', 'deepstream')
    ds.close()
    later.close()
    expect(await (await connect(await host())).record.snapshot('interop/by-riptide')).toEqual({ from: 'riptide', then: 'deepstream' })
  })

  it('fails writes with an error while Redis is down, keeps every acknowledged write, and recovers by itself', async () => {
    const server = await host()
    const client = await connect(server)
    const acknowledged = Array.from({ length: 50 }, (_, i) => `outage/${i}`)
    await Promise.all(acknowledged.map((name) => client.record.setDataWithAck(name, { n: name })))

    // SIGKILL: Redis gets no chance to flush; appendfsync always has put each acknowledged write on disk.
    await redis.server.stop('SIGKILL')
    const refused = await client.record.setDataWithAck('outage/while-down', { n: 1 }).then(() => null, (error: unknown) => error)
    expect(refused).toBe('RECORD_UPDATE_ERROR')
    const unread = await client.record.snapshot('outage/never-written').then(() => null, (error: unknown) => error)
    expect(unread).toBe('RECORD_LOAD_ERROR')

    await redis.restart()
    await eventually(async () => {
      await client.record.setDataWithAck('outage/after', { back: true })
    }, 10_000)
    const reader = await connect(server)
    for (const name of acknowledged) expect(await reader.record.snapshot(name)).toEqual({ n: name })
  })

  it('refuses to start when Redis cannot be reached or an option is wrong, naming it', async () => {
    await expect(startTestServer({ cache: { type: 'redis', options: { url: 'redis://127.0.0.1:1' } } })).rejects.toMatchObject({ message: expect.stringMatching(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1.*ECONNREFUSED/) })
    await expect(startTestServer({ cache: { type: 'redis', options: { hots: 'x' } } })).rejects.toMatchObject({ code: 'RT_CONFIG_INVALID', message: expect.stringMatching(/cache\.options\.hots/) })
  })
})

/**
 * What hosts joined on Redis share besides messages: presence, RPC providers, listening, locks and
 * the cluster registry. Each host is a riptide server of 2 workers with
 * `clusterNode: { type: redis }` (which brings the Redis registry, locks and state registries) and
 * the Redis cache; stock `@deepstream/client`s sit on chosen workers of different hosts.
 */
import { describe, expect, it } from 'vitest'
import { connect, DEFAULT_KIND, eventually, startTestServer, workerPort, type TestServer } from './helpers.js'
import { servicesMissing, useRedis } from './services.js'
import { Redis } from 'ioredis'
import { HOSTS_KEY } from '../src/native-adapters/redis/redis-states.js'
import { LEADER_KEY } from '../src/native-adapters/redis/redis-cluster-registry.js'
import { RedisLockRegistry } from '../src/native-adapters/redis/redis-locks.js'
import { redisChannel } from '../src/native-adapters/redis/redis-cluster-node.js'
import { subscriptionChannel } from '../src/native-free-core/plugins/subscription-registry/subscription-registry.js'
import { lockRegistrySuite } from '../src/conformance/index.js'

interface ListenResponse { accept (): void, reject (): void, onStop (callback: () => void): void }
interface RpcResponse { send (data: unknown): void, reject (): void }

describe.skipIf(servicesMissing !== '' && process.env.CI !== 'true')(`hosts on Redis share state${servicesMissing}`, () => {
  const redis = useRedis()

  /** Two hosts that each list the other. */
  async function twoHosts (): Promise<[TestServer, TestServer]> {
    const hosts = await Promise.all([redis.host(), redis.host()])
    await eventually(async () => expect(await redis.client.hlen(HOSTS_KEY)).toBe(2))
    return hosts
  }

  lockRegistrySuite('redis', () => new RedisLockRegistry(redis.client, 'conformance', 50))

  it('locks: one owner at a time across connections, released only by its owner, or by Redis when its lease runs out', async () => {
    const connections = [new Redis(redis.url()), new Redis(redis.url())]
    try {
      const [first, second] = connections.map((connection, i) => new RedisLockRegistry(connection, `host${i}/0`, 300))
      expect(await first.get('record/x')).toBe(true)
      expect(await second.get('record/x')).toBe(false)
      // Releasing a lock held by someone else does nothing (the release is one script comparing tokens).
      second.release('record/x')
      expect(await second.get('record/x')).toBe(false)
      first.release('record/x')
      await eventually(async () => expect(await second.get('record/x')).toBe(true))
      // The owner never releases: Redis ends the lease.
      expect(await first.get('record/x')).toBe(false)
      await eventually(async () => expect(await first.get('record/x')).toBe(true), 2000)
    } finally {
      for (const connection of connections) connection.disconnect()
    }
  })

  it('refuses a Redis registry, lock or state registry without the Redis cluster node, naming the key', async () => {
    for (const kind of ['clusterRegistry', 'locks', 'clusterStates']) {
      await expect(startTestServer({ [kind]: { type: 'redis' } }, DEFAULT_KIND, process.cwd(), 1)).rejects.toThrow(`${kind}.type: redis needs clusterNode: { type: redis }`)
    }
  })

  it('counts a user logged in on two hosts online once, everywhere, and announces the leave once', async () => {
    const [a, b] = await twoHosts()
    const watcher = await connect(workerPort(b, 1))
    const events: string[] = []
    watcher.presence.subscribe((user: string, online: boolean) => events.push(`${user}:${online ? 'in' : 'out'}`))
    await watcher.presence.getAll()
    const onA = await connect(workerPort(a, 0), { username: 'ann' })
    await eventually(() => expect(events).toEqual(['ann:in']))
    const onB = await connect(workerPort(b, 0), { username: 'ann' })
    const asker = await connect(workerPort(a, 1))
    expect(await asker.presence.getAll()).toEqual(['ann'])
    expect(await asker.presence.getAll(['ann', 'bob'])).toEqual({ ann: true, bob: false })
    onA.close()
    // A marker user in and out on host A after ann's socket there closed: a wrong 'ann:out' would come first.
    const marker = await connect(workerPort(a, 0), { username: 'marker' })
    await eventually(() => expect(events).toContain('marker:in'))
    marker.close()
    await eventually(() => expect(events).toContain('marker:out'))
    expect(events).toEqual(['ann:in', 'marker:in', 'marker:out'])
    await eventually(async () => expect(await asker.presence.getAll(['ann'])).toEqual({ ann: true }))
    onB.close()
    await eventually(() => expect(events).toEqual(['ann:in', 'marker:in', 'marker:out', 'ann:out']))
    // Host A hears of it through Redis, a little after host B's own workers.
    await eventually(async () => expect(await asker.presence.getAll()).toEqual([]))
  })

  it('sends requests to providers on other hosts, and reroutes a rejected one to another host', async () => {
    const [a, b] = await twoHosts()
    const provider = await connect(workerPort(a, 1))
    provider.rpc.provide('double', (data: number, response: RpcResponse) => response.send(data * 2))
    const requestor = await connect(workerPort(b, 0))
    await eventually(async () => expect(await requestor.rpc.make('double', 4)).toBe(8))
    // A provider on the requestor's own host that refuses everything: each of its requests goes on to host A.
    let refused = 0
    const refuser = await connect(workerPort(b, 1))
    refuser.rpc.provide('double', (_data: number, response: RpcResponse) => { refused++; response.reject() })
    await eventually(async () => {
      for (let i = 0; i < 10; i++) expect(await requestor.rpc.make('double', i)).toBe(i * 2)
      expect(refused).toBeGreaterThan(0)
    })
    provider.rpc.unprovide('double')
    await eventually(async () => expect(await requestor.rpc.make('double', 1).catch((error: unknown) => error)).toBe('NO_RPC_PROVIDER'))
  })

  it('asks one listener among hosts, and tells it when the last subscriber on any host leaves', async () => {
    const [a, b] = await twoHosts()
    const found: string[] = []
    const removed: string[] = []
    for (const [index, where] of [workerPort(a, 0), workerPort(b, 1)].entries()) {
      const provider = await connect(where)
      provider.event.listen('^weather/.*', (name: string, response: ListenResponse) => {
        found.push(`${index}:${name}`)
        response.accept()
        response.onStop(() => removed.push(`${index}:${name}`))
      })
    }
    const subscriberA = await connect(workerPort(a, 1))
    const subscriberB = await connect(workerPort(b, 0))
    subscriberA.event.subscribe('weather/oslo', () => {})
    subscriberB.event.subscribe('weather/oslo', () => {})
    await eventually(() => expect(found).toHaveLength(1))
    subscriberA.event.unsubscribe('weather/oslo')
    subscriberB.event.unsubscribe('weather/oslo')
    await eventually(() => expect(removed).toHaveLength(1))
    // The provider is told to stop only after both hosts' subscribers left: a second ask would have come before.
    expect(found).toHaveLength(1)
    expect(removed).toEqual(found)
  })

  it('tells subscribers on another host that a listener provides their record, and delivers its data', async () => {
    const [a, b] = await twoHosts()
    const provider = await connect(workerPort(a, 0))
    provider.record.listen('^prices/.*', (name: string, response: ListenResponse) => {
      response.accept()
      void provider.record.getRecord(name).whenReady().then((record: { set (path: string, value: unknown): void }) => record.set('eur', 3))
    })
    const subscriber = await connect(workerPort(b, 1))
    const record = subscriber.record.getRecord('prices/tea')
    await eventually(() => expect(record.get('eur')).toBe(3))
    await eventually(() => expect(record.hasProvider).toBe(true))
  })

  it('keeps a list edited on two hosts', async () => {
    const [a, b] = await twoHosts()
    const onA = await connect(workerPort(a, 0))
    const onB = await connect(workerPort(b, 1))
    const listA = onA.record.getList('todo')
    const listB = onB.record.getList('todo')
    await Promise.all([listA.whenReady(), listB.whenReady()])
    // Live on both hosts: each worker with a subscriber listens to the list's Redis channel.
    await eventually(async () => expect((await redis.client.pubsub('NUMSUB', redisChannel(subscriptionChannel('record'), 'todo')))[1]).toBe(2))
    listA.addEntry('one')
    await eventually(() => expect(listB.getEntries()).toEqual(['one']))
    listB.addEntry('two')
    await eventually(() => expect(listA.getEntries()).toEqual(['one', 'two']))
    listA.removeEntry('one')
    await eventually(() => expect(listB.getEntries()).toEqual(['two']))
  })

  it('answers JIF requests on any host from records written on another', async () => {
    const [a, b] = await twoHosts()
    const post = async (server: TestServer, body: unknown): Promise<any> => {
      const response = await fetch(`http://127.0.0.1:${server.port}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body: [body] }) })
      return await response.json()
    }
    expect(await post(a, { topic: 'record', action: 'write', recordName: 'jif/shared', data: { by: 'a' } })).toMatchObject({ result: 'SUCCESS' })
    expect(await post(b, { topic: 'record', action: 'read', recordName: 'jif/shared' })).toMatchObject({ body: [{ success: true, data: { by: 'a' }, version: 1 }] })
    // A write whose version lost a race is refused on the other host too.
    expect(await post(b, { topic: 'record', action: 'write', recordName: 'jif/shared', data: { by: 'b' }, version: 1 })).toMatchObject({ result: 'FAILURE' })
    const client = await connect(workerPort(a, 1))
    expect(await client.record.snapshot('jif/shared')).toEqual({ by: 'a' })
  })

  it('has one leader among hosts, lists every host\'s workers, and removes a host that stops', async () => {
    const [a, b] = await twoHosts()
    const leader = await redis.client.get(LEADER_KEY)
    expect(leader).not.toBeNull()
    // A user, a provider and a listener on host B, then host B stops.
    const user = await connect(workerPort(b, 0), { username: 'brief' })
    const provider = await connect(workerPort(b, 1))
    provider.rpc.provide('gone', (_data: unknown, response: RpcResponse) => response.send('here'))
    const onA = await connect(workerPort(a, 0))
    await eventually(async () => expect(await onA.rpc.make('gone', null)).toBe('here'))
    expect(await onA.presence.getAll(['brief'])).toEqual({ brief: true })
    user.close()
    provider.close()
    redis.servers.splice(redis.servers.indexOf(b), 1)
    await b.close()
    await eventually(async () => expect(await redis.client.hkeys(HOSTS_KEY)).toHaveLength(1), 5000)
    await eventually(async () => expect(await onA.presence.getAll(['brief'])).toEqual({ brief: false }))
    await eventually(async () => expect(await onA.rpc.make('gone', null).catch((error: unknown) => error)).toBe('NO_RPC_PROVIDER'))
    const [survivor] = await redis.client.hkeys(HOSTS_KEY)
    await eventually(async () => expect((await redis.client.get(LEADER_KEY))?.startsWith(`${survivor}/`)).toBe(true), 5000)
  })
})

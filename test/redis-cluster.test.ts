/**
 * Hosts joined on Redis (`clusterNode: { type: redis }`): riptide servers that share nothing but a
 * real redis-server, each on 2 workers, as hosts behind a load balancer would. Stock
 * `@deepstream/client`s on different hosts and workers get each event once, record updates made
 * on another host, and a host listens to a name's Redis channel only while it has subscribers.
 */
import { describe, expect, it } from 'vitest'
import type { DeepstreamClient } from '@deepstream/client'
import { leaseKey, redisChannel } from '../src/native-adapters/redis/redis-cluster-node.js'
import { subscriptionChannel } from '../src/native-free-core/plugins/subscription-registry/subscription-registry.js'
import { connect, eventually, workerPort } from './helpers.js'
import { servicesMissing, useRedis } from './services.js'

/** Collects what `client` receives on event `name`. */
function collect (client: DeepstreamClient, name: string): unknown[] {
  const received: unknown[] = []
  client.event.subscribe(name, (data: unknown) => received.push(data))
  return received
}

describe.skipIf(servicesMissing !== '' && process.env.CI !== 'true')(`hosts on Redis${servicesMissing}`, () => {
  const redis = useRedis()

  const host = redis.host

  /** How many workers, over every host, listen to `name`'s messages on `topic` on Redis. */
  async function listeners (topic: string, name: string): Promise<number> {
    const [, count] = await redis.client.pubsub('NUMSUB', redisChannel(subscriptionChannel(topic), name)) as [string, number]
    return count
  }

  it('delivers each event once to subscribers on every worker of every host', async () => {
    const [a, b] = await Promise.all([host(), host()])
    const onA0 = await connect(workerPort(a, 0))
    const onA1 = await connect(workerPort(a, 1))
    const onB1 = await connect(workerPort(b, 1))
    const publisher = await connect(workerPort(b, 0))
    const got = [collect(onA0, 'news'), collect(onA1, 'news'), collect(onB1, 'news'), collect(publisher, 'news')]
    // Live: each of the four workers with a subscriber listens on Redis.
    await eventually(async () => expect(await listeners('event', 'news')).toBe(4))
    for (let n = 0; n < 20; n++) publisher.event.emit('news', n)
    onA0.event.emit('news', 'last')
    // @deepstream/client hands an emit to its own subscribers too: everyone ends with the 21 once.
    const expected = [...Array.from({ length: 20 }, (_, n) => n), 'last'].sort()
    await eventually(() => {
      for (const received of got) expect([...received].sort()).toEqual(expected)
    })
    // Nothing more is on its way: 'end' from the same publisher comes after any copy of its 20.
    publisher.event.emit('news', 'end')
    await eventually(() => {
      for (const received of got) expect(received).toContain('end')
    })
    for (const received of got) expect(received).toHaveLength(22)
  })

  it('listens to a name on Redis only while a worker has subscribers of it', async () => {
    const [a] = await Promise.all([host(), host()])
    const client = await connect(workerPort(a, 1))
    expect(await listeners('event', 'quiet')).toBe(0)
    const handler = (): void => {}
    client.event.subscribe('quiet', handler)
    await eventually(async () => expect(await listeners('event', 'quiet')).toBe(1))
    client.event.unsubscribe('quiet', handler)
    await eventually(async () => expect(await listeners('event', 'quiet')).toBe(0))
  })

  it('sends record updates made on one host to subscribers on the other, versions decided once', async () => {
    const [a, b] = await Promise.all([host(), host()])
    const reader = await connect(workerPort(a, 1))
    const record = reader.record.getRecord('shared/doc')
    await record.whenReady()
    await eventually(async () => expect(await listeners('record', 'shared/doc')).toBe(1))
    const writer = await connect(workerPort(b, 0))
    const written = writer.record.getRecord('shared/doc')
    await written.whenReady()
    await written.setWithAck({ title: 'from b' })
    await eventually(() => expect(record.get()).toEqual({ title: 'from b' }))
    expect(record.version).toBe(1)
    await record.setWithAck('by', 'a')
    await eventually(() => expect(written.get()).toEqual({ title: 'from b', by: 'a' }))
    expect(written.version).toBe(2)
  })

  it('recovers by itself when Redis restarts: each host listens again, and events flow between hosts', async () => {
    const [a, b] = await Promise.all([host(), host()])
    const subscriber = await connect(workerPort(a, 0))
    const got = collect(subscriber, 'after-restart')
    await eventually(async () => expect(await listeners('event', 'after-restart')).toBe(1))
    await redis.server.stop('SIGKILL')
    await redis.restart()
    const publisher = await connect(workerPort(b, 1))
    await eventually(async () => expect(await listeners('event', 'after-restart')).toBe(1), 10_000)
    await eventually(() => {
      publisher.event.emit('after-restart', 'ping')
      expect(got).toContain('ping')
    }, 10_000)
  })

  it('holds a lease on each worker\'s name while it runs, and refuses a second host with a server name in use', async () => {
    const first = await host({ serverName: 'alpha' })
    const leases = [leaseKey('alpha/0'), leaseKey('alpha/1')]
    for (const lease of leases) expect(await redis.client.pttl(lease)).toBeGreaterThan(0)
    await expect(host({ serverName: 'alpha' })).rejects.toMatchObject({ code: 'RT_CONFIG_INVALID', message: expect.stringMatching(/serverName: "alpha" is in use by another running host/) })
    // Still renewed after the refused start waited the lease out.
    for (const lease of leases) expect(await redis.client.pttl(lease)).toBeGreaterThan(0)
    redis.servers.splice(redis.servers.indexOf(first), 1)
    await first.close()
    expect(await redis.client.exists(...leases)).toBe(0)
    await host({ serverName: 'alpha' })
  })

  it('takes over the lease a dead host left under its name, once nobody renews it', async () => {
    // What a host killed with SIGKILL leaves: a lease that still has seconds to live.
    await redis.client.set(leaseKey('beta/0'), 'gone:7', 'PX', 3000)
    await host({ serverName: 'beta' })
    expect(await redis.client.get(leaseKey('beta/0'))).toMatch(/^[0-9a-f-]{36}:\d+$/)
  })
})

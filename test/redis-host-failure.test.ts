/**
 * Failures of hosts joined on Redis, with real processes: a host SIGKILLed under traffic (its
 * clients reconnect through a load balancer to the other host; the survivors remove its presence,
 * providers and listeners within 5 s; every acknowledged write is readable), and Redis restarted
 * under traffic (the hosts recover by themselves; nothing acknowledged is lost).
 */
import { describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import type { DeepstreamClient } from '@deepstream/client'
import { connect, eventually, killChildren, makeTempDir, workerPort, spawnServer, type Reachable } from './helpers.js'
import { servicesMissing, useRedis } from './services.js'
import { HOSTS_KEY } from '../src/native-adapters/redis/redis-states.js'

interface ListenResponse { accept (): void }
interface RpcResponse { send (data: unknown): void }

/** A TCP load balancer: each connection goes to the first backend that accepts it. */
async function loadBalancer (backends: number[]): Promise<Reachable & { close (): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => {})
    client.pause()
    const attempt = (index: number): void => {
      if (index >= backends.length) {
        client.destroy()
        return
      }
      const upstream = tcpConnect(backends[index], '127.0.0.1')
      upstream.once('error', () => attempt(index + 1))
      upstream.once('connect', () => {
        sockets.add(upstream)
        upstream.on('close', () => { sockets.delete(upstream); client.destroy() })
        upstream.on('error', () => {})
        client.on('close', () => upstream.destroy())
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      })
    }
    attempt(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/**
 * Writes `acked/<n % names>` with acknowledgement, one write outstanding, until `stop()`; keeps
 * for each name the last value acknowledged. A write with no answer in 2 s counts as not acknowledged.
 */
function ackedWrites (client: DeepstreamClient, names = 10): { acked: Map<string, number>, count: () => number, stop: () => Promise<void> } {
  const acked = new Map<string, number>()
  let running = true
  let count = 0
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const name = `acked/${n % names}`
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('no ack')), 2000) })
      try {
        await Promise.race([client.record.setDataWithAck(name, { n }), timeout])
        acked.set(name, n)
        count++
      } catch {
        // Not acknowledged: it may or may not have been written. Pace the retries while the connection is down.
        await new Promise((resolve) => setTimeout(resolve, 20))
      } finally {
        clearTimeout(timer)
      }
    }
  })()
  return { acked, count: () => count, stop: async () => { running = false; await loop } }
}

/** Every acknowledged value is readable: each name holds what was acknowledged last, or a later write. */
async function expectReadable (reader: DeepstreamClient, acked: Map<string, number>): Promise<void> {
  expect(acked.size).toBeGreaterThan(0)
  for (const [name, n] of acked) {
    const data = await reader.record.snapshot(name) as { n: number }
    expect(data.n, name).toBeGreaterThanOrEqual(n)
  }
}

describe.skipIf(servicesMissing !== '' && process.env.CI !== 'true')(`hosts on Redis, failing${servicesMissing}`, () => {
  const redis = useRedis()

  it('removes a SIGKILLed host\'s presence, providers and listeners within 5 s; its clients reconnect to the other host and no acked write is lost', async () => {
    const dir = makeTempDir()
    const config = join(dir, 'config.yml')
    const redisUrl = redis.url()
    writeFileSync(config, `logLevel: WARN\nclusterNode:\n  type: redis\n  options:\n    url: ${redisUrl}\ncache:\n  type: redis\n  options:\n    url: ${redisUrl}\nstorage:\n  type: none\n`)
    try {
      const doomed = await spawnServer(config, ['--workers', '2', '--log-level', 'INFO'])
      const survivor = await spawnServer(config, ['--workers', '2', '--log-level', 'INFO'])
      await eventually(async () => expect(await redis.client.hlen(HOSTS_KEY)).toBe(2))
      const balancer = await loadBalancer([doomed.port, survivor.port])
      redis.servers.push(balancer)

      // Through the balancer, on the doomed host: a user, a provider and a listener (none comes back)...
      await connect(balancer, { username: 'kim' })
      const provider = await connect(balancer)
      provider.rpc.provide('doomed/rpc', (_data: unknown, response: RpcResponse) => response.send('alive'))
      const listener = await connect(balancer)
      const listenerFound: string[] = []
      listener.event.listen('^doomed/.*', (name: string, response: ListenResponse) => { listenerFound.push(name); response.accept() })
      // ...and a writer that reconnects by itself.
      const writer = await connect(balancer, { username: 'writer' }, { maxReconnectAttempts: 100, reconnectIntervalIncrement: 50, maxReconnectInterval: 200 })

      // On the survivor: a presence watcher, a requestor, a subscriber of the listened name and an heir listener.
      const watcher = await connect(survivor)
      const presence: string[] = []
      watcher.presence.subscribe((user: string, online: boolean) => presence.push(`${user}:${online ? 'in' : 'out'}`))
      await eventually(async () => expect(await watcher.presence.getAll(['kim'])).toEqual({ kim: true }))
      await eventually(async () => expect(await watcher.rpc.make('doomed/rpc', null)).toBe('alive'))
      const subscriber = await connect(survivor)
      subscriber.event.subscribe('doomed/feed', () => {})
      await eventually(() => expect(listenerFound).toEqual(['doomed/feed']))
      const heirFound: string[] = []
      const heir = await connect(survivor)
      heir.event.listen('^doomed/.*', (name: string, response: ListenResponse) => { heirFound.push(name); response.accept() })
      // The heir's listen is handled: the name has a provider (on the doomed host), so it is not asked.
      await heir.presence.getAll()

      const writes = ackedWrites(writer)
      await eventually(() => expect(writes.count()).toBeGreaterThan(20))
      doomed.process.kill('SIGKILL')
      await doomed.exited
      const killedAt = writes.count()
      expect(heirFound).toEqual([])

      await Promise.all([
        eventually(() => expect(presence).toContain('kim:out'), 5000),
        eventually(async () => expect(await watcher.rpc.make('doomed/rpc', null).catch((error: unknown) => error)).toBe('NO_RPC_PROVIDER'), 5000),
        eventually(() => expect(heirFound).toEqual(['doomed/feed']), 5000),
      ])
      // The writer reconnected through the balancer to the survivor, and writes are acknowledged again.
      await eventually(() => expect(writes.count()).toBeGreaterThan(killedAt + 20), 10_000)
      await writes.stop()
      expect(writer.getConnectionState()).toBe('OPEN')
      expect(await redis.client.hlen(HOSTS_KEY)).toBe(1)
      await expectReadable(await connect(survivor), writes.acked)
    } finally {
      await killChildren()
    }
  })

  it('recovers by itself when Redis restarts under traffic: presence and providers on other hosts come back, and no acked write is lost', async () => {
    const [a, b] = await Promise.all([redis.host(), redis.host()])
    await connect(workerPort(a, 0), { username: 'steady' })
    const provider = await connect(workerPort(a, 1))
    provider.rpc.provide('steady/rpc', (_data: unknown, response: RpcResponse) => response.send('ok'))
    const onB = await connect(workerPort(b, 1))
    await eventually(async () => expect(await onB.rpc.make('steady/rpc', null)).toBe('ok'))
    const writer = await connect(workerPort(b, 0))
    const writes = ackedWrites(writer)
    await eventually(() => expect(writes.count()).toBeGreaterThan(20))

    await redis.server.stop('SIGKILL')
    const during = writes.count()
    // A user who comes while Redis is away is known to the other host once it is back.
    await connect(workerPort(a, 1), { username: 'late' })
    await redis.restart()
    await eventually(() => expect(writes.count()).toBeGreaterThan(during + 20), 10_000)
    await writes.stop()
    await eventually(async () => expect(await onB.presence.getAll(['steady', 'late'])).toEqual({ steady: true, late: true }))
    await eventually(async () => expect(await onB.rpc.make('steady/rpc', null)).toBe('ok'))
    await expectReadable(await connect(workerPort(a, 1)), writes.acked)
  })
})

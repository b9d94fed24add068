/**
 * The cluster node of a riptide host among others on Redis (`clusterNode: { type: redis }`).
 * Inside the host nothing changes: the worker threads exchange envelopes through the rings in
 * shared memory, as with the default node. Between hosts, what a worker publishes to the
 * subscribers of a name goes to that name's Redis channel, `riptide/<channel>/<name>`, which a
 * worker listens to only while it has subscribers of the name: a host receives a name's messages
 * only if it has subscribers of it, and no message is broadcast to every host.
 *
 * A message travels as the same FlatBuffers envelope as between workers, with the frames the
 * publisher encoded and its host's server name (`from_host`). Every worker of a host with
 * subscribers gets a message from Redis, including the host's own: those it has already had
 * through its ring, so it drops envelopes from its own host. Server names must therefore differ
 * between hosts (the default, `UUID`, does).
 *
 * Each worker holds two connections: one publishes, one subscribes (Redis's rule). While Redis is
 * down, publishes to other hosts are dropped, as deepstream's Redis cluster node drops them; the
 * connections come back by themselves and the watched names are subscribed again.
 *
 * Each worker also holds a lease on its name, the key `riptide/node/<serverName>/<index>`, renewed
 * every second and expiring after three: a second host started with a server name that a running
 * host uses is refused at start instead of dropping that host's messages as its own, and a host
 * restarted under its old name takes over the lease its previous run left.
 */
import { randomUUID } from 'node:crypto'
import type { Message } from '../../native-free-core/protocol/message.js'
import type { EncodedFrames } from '../../native-free-core/plugins/cluster-node/cluster-node.js'
import type { Logger } from '../../native-free-core/plugins/logger/logger.js'
import type { SharedMemory } from '../../native-free-core/cluster/in-process/shared-memory.js'
import { WorkerClusterNode, workerName } from '../../native-free-core/cluster/in-process/worker-cluster-node.js'
import { decodeEnvelope, encodeEnvelope } from '../../native-free-core/cluster/envelope-codec.js'
import { frameClock } from '../../native-free-core/protocol/frame-clock.js'
import { ConfigError, errorMessage, errorStack } from '../../native-free-core/errors.js'
import { parseRedisOptions, redisAddress, RedisConnection } from './redis-connection.js'

/** How often a worker renews the lease on its name, and how long the lease lasts unrenewed. */
const LEASE_RENEW_MS = 1000
const LEASE_MS = 3000

// A lease's value is `<token>:<renewals>`, so that another host can tell a renewed lease from an
// abandoned one by its value alone.
/** KEYS: lease key; ARGV: token, ms, renewals. Renews the lease if this token holds it; 1 if so. */
const RENEW_LEASE = `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
`
/** KEYS: lease key; ARGV: token. Deletes the lease if this token holds it. */
const RELEASE_LEASE = `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then return redis.call('DEL', KEYS[1]) end
return 0
`
/** KEYS: lease key; ARGV: the value seen before, new value, ms. Takes a lease nobody renewed (or that expired); 1 if taken. */
const TAKE_OVER_LEASE = `
local held = redis.call('GET', KEYS[1])
if held ~= false and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`

interface LeaseScripts {
  riptideRenewLease (key: string, token: string, ms: number, renewals: number): Promise<number>
  riptideReleaseLease (key: string, token: string): Promise<number>
  riptideTakeOverLease (key: string, seen: string, value: string, ms: number): Promise<number>
}

/** The key of the lease a worker holds on its server name. */
export function leaseKey (serverName: string): string {
  return `riptide/node/${serverName}`
}

/** The Redis channel of `name`'s messages on the cluster channel `channel`. */
export function redisChannel (channel: string, name: string): string {
  return `riptide/${channel}/${name}`
}

export class RedisClusterNode extends WorkerClusterNode {
  private readonly publisher: RedisConnection
  private readonly subscriber: RedisConnection
  /** The Redis channels this worker listens to: one per name it has subscribers of. */
  private readonly watched = new Set<string>()
  private dropping = false
  private readonly lease: { key: string, token: string, timer: NodeJS.Timeout | null, lost: boolean, renewals: number }
  private readonly leases: LeaseScripts

  constructor (shared: SharedMemory, index: number, base: string, logger: Logger, options: unknown) {
    const parsed = parseRedisOptions(options, 'clusterNode.options')
    super(shared, index, base, logger, `redis cluster node at ${redisAddress(parsed)}, worker ${index}`)
    this.publisher = new RedisConnection(parsed, logger, `redis cluster node (worker ${index})`)
    this.subscriber = new RedisConnection(parsed, logger, `redis cluster node (worker ${index}, subscriber)`)
    this.subscriber.client.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.fromOtherHost(payload))
    // After a reconnection: names watched while Redis was away were never subscribed.
    this.subscriber.client.on('ready', () => this.listenTo(...this.watched))
    this.publisher.client.on('ready', () => { this.dropping = false })
    this.publisher.client.defineCommand('riptideRenewLease', { numberOfKeys: 1, lua: RENEW_LEASE })
    this.publisher.client.defineCommand('riptideReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE })
    this.publisher.client.defineCommand('riptideTakeOverLease', { numberOfKeys: 1, lua: TAKE_OVER_LEASE })
    this.leases = this.publisher.client as unknown as LeaseScripts
    this.lease = { key: leaseKey(this.serverName), token: randomUUID(), timer: null, lost: false, renewals: 0 }
  }

  override async whenReady (): Promise<void> {
    await Promise.all([this.publisher.open(), this.subscriber.open()])
    await this.takeLease()
    await super.whenReady()
  }

  /**
   * Takes the lease on this worker's name. One left by a host that died is taken over once it has
   * gone one renewal period unrenewed; one that a running host renews refuses the start.
   */
  private async takeLease (): Promise<void> {
    const { key, token } = this.lease
    const redis = this.publisher.client
    const value = `${token}:0`
    if (await redis.set(key, value, 'PX', LEASE_MS, 'NX') !== 'OK') {
      const seen = await redis.get(key) ?? ''
      await new Promise((resolve) => setTimeout(resolve, LEASE_RENEW_MS + LEASE_RENEW_MS / 5))
      if (await this.leases.riptideTakeOverLease(key, seen, value, LEASE_MS) !== 1) {
        await Promise.all([this.publisher.close(), this.subscriber.close()])
        throw new ConfigError(`serverName: "${this.base}" is in use by another running host on Redis at ${this.publisher.address} (it renews ${key}): give each host its own serverName, or leave it UUID`)
      }
    }
    this.lease.timer = setInterval(() => { void this.renewLease() }, LEASE_RENEW_MS)
  }

  private async renewLease (): Promise<void> {
    const { key, token } = this.lease
    try {
      const renewals = ++this.lease.renewals
      // Lost while Redis was away for longer than the lease: take it again if nobody else has.
      const held = await this.leases.riptideRenewLease(key, token, LEASE_MS, renewals) === 1 ||
        await this.publisher.client.set(key, `${token}:${renewals}`, 'PX', LEASE_MS, 'NX') === 'OK'
      if (!held && !this.lease.lost) this.logger.error('NODE_NAME_TAKEN', `worker ${this.index}: another host now holds ${key}; messages between it and this host are mixed up until one of them stops`)
      this.lease.lost = !held
    } catch {
      // Redis is away: the connection says so, and the next renewal tries again.
    }
  }

  watch (channel: string, name: string, watching: boolean): void {
    const key = redisChannel(channel, name)
    if (watching) {
      if (this.watched.has(key)) return
      this.watched.add(key)
      this.listenTo(key)
    } else if (this.watched.delete(key)) {
      this.subscriber.client.unsubscribe(key).catch(() => {})
    }
  }

  publishToHosts (channel: string, name: string, message: Message, frames?: EncodedFrames): void {
    if (this.publisher.client.status !== 'ready') {
      if (!this.dropping) this.logger.warn('CLUSTER_MESSAGE_DROPPED', `worker ${this.index}: Redis is away; messages to other hosts are dropped until it is back`)
      this.dropping = true
      return
    }
    // Buffer.from copies: the envelope views a builder that the next encode reuses.
    const payload = Buffer.from(encodeEnvelope(channel, this.index, message, frameClock.receivedAt, frames, this.base))
    this.publisher.client.publish(redisChannel(channel, name), payload).catch(() => {})
  }

  private listenTo (...keys: string[]): void {
    if (keys.length === 0 || this.subscriber.client.status !== 'ready') return
    this.subscriber.client.subscribe(...keys).catch((error: unknown) => {
      this.logger.warn('CLUSTER_SUBSCRIBE_FAILED', `worker ${this.index}: could not subscribe to ${keys.length} name(s) on Redis (${errorMessage(error)}); retrying when it is back`)
    })
  }

  private fromOtherHost (payload: Buffer): void {
    try {
      const { channel, fromWorker, fromHost, message, receivedAt, frames } = decodeEnvelope(payload)
      if (fromHost === null || fromHost === this.base) return
      this.handlers.get(channel)?.(message, workerName(fromHost, fromWorker), receivedAt, frames ?? undefined)
    } catch (error) {
      this.logger.error('CLUSTER_MESSAGE_ERROR', `worker ${this.index} could not handle a message from another host: ${errorStack(error)}`)
    }
  }

  override async close (): Promise<void> {
    if (this.lease.timer !== null) clearInterval(this.lease.timer)
    await super.close()
    await this.leases.riptideReleaseLease(this.lease.key, this.lease.token).catch(() => {})
    await Promise.all([this.publisher.close(), this.subscriber.close()])
  }
}

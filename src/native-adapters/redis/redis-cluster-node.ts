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
 * What is sent to one worker of another host by name (RPC requests and replies, the plugin API's
 * questions) goes to that worker's own channel, `riptide/direct/<host>/<index>`; names of this
 * host's workers go through the rings.
 *
 * Each worker holds two connections: one publishes, one subscribes (Redis's rule). While Redis is
 * down, publishes to other hosts are dropped, as deepstream's Redis cluster node drops them; the
 * connections come back by themselves and the watched names are subscribed again.
 *
 * Each worker also holds a lease on its name, the key `riptide/node/<serverName>/<index>`, renewed
 * every second and expiring after three (redis-lease.ts): a second host started with a server name that a running
 * host uses is refused at start instead of dropping that host's messages as its own, and a host
 * restarted under its old name takes over the lease its previous run left.
 */
import type { Redis } from 'ioredis'
import type { Message } from '../../native-free-core/protocol/message.js'
import type { EncodedFrames } from '../../native-free-core/plugins/cluster-node/cluster-node.js'
import type { Logger } from '../../native-free-core/plugins/logger/logger.js'
import type { SharedMemory } from '../../native-free-core/cluster/in-process/shared-memory.js'
import { WorkerClusterNode, workerName, workerIndexOf } from '../../native-free-core/cluster/in-process/worker-cluster-node.js'
import { decodeEnvelope, encodeEnvelope } from '../../native-free-core/cluster/envelope-codec.js'
import { frameClock } from '../../native-free-core/protocol/frame-clock.js'
import { ConfigError, errorMessage, errorStack } from '../../native-free-core/errors.js'
import { parseRedisOptions, redisAddress, RedisConnection } from './redis-connection.js'
import { defineLeaseScripts, Lease } from './redis-lease.js'

/** The key of the lease a worker holds on its server name. */
export function leaseKey (serverName: string): string {
  return `riptide/node/${serverName}`
}

/** The Redis channel of `name`'s messages on the cluster channel `channel`. */
export function redisChannel (channel: string, name: string): string {
  return `riptide/${channel}/${name}`
}

/** The Redis channel of what other hosts send one worker (`<host>/<index>`) by name. */
export function directChannel (serverName: string): string {
  return `riptide/direct/${serverName}`
}

/** A handler of a Redis channel that does not carry envelopes. */
export type RedisMessageHandler = (payload: Buffer) => void

export class RedisClusterNode extends WorkerClusterNode {
  private readonly publisher: RedisConnection
  private readonly subscriber: RedisConnection
  /** The Redis channels of names this worker has subscribers of. */
  private readonly watched = new Set<string>()
  /** Channels that other parts (state, cluster registry) listen to, with their handlers. */
  private readonly raw = new Map<string, RedisMessageHandler[]>()
  private readonly direct: string
  private dropping = false
  private readonly lease: Lease

  constructor (shared: SharedMemory, index: number, base: string, logger: Logger, options: unknown) {
    const parsed = parseRedisOptions(options, 'clusterNode.options')
    super(shared, index, base, logger, `redis cluster node at ${redisAddress(parsed)}, worker ${index}`)
    this.publisher = new RedisConnection(parsed, logger, `redis cluster node (worker ${index})`)
    this.subscriber = new RedisConnection(parsed, logger, `redis cluster node (worker ${index}, subscriber)`)
    this.direct = directChannel(this.serverName)
    this.subscriber.client.on('messageBuffer', (channel: Buffer, payload: Buffer) => this.fromRedis(channel.toString(), payload))
    // After a reconnection: what was listened to while Redis was away was never subscribed.
    this.subscriber.client.on('ready', () => this.listenTo(this.direct, ...this.raw.keys(), ...this.watched))
    this.publisher.client.on('ready', () => { this.dropping = false })
    defineLeaseScripts(this.publisher.client)
    this.lease = new Lease(this.publisher.client, leaseKey(this.serverName), () => {
      this.logger.error('NODE_NAME_TAKEN', `worker ${this.index}: another host now holds ${leaseKey(this.serverName)}; messages between it and this host are mixed up until one of them stops`)
    })
  }

  /** This worker's host: its server name without the worker index. */
  get host (): string { return this.base }

  /** This worker's index in its host. */
  get workerIndex (): number { return this.index }

  /** The connection that commands and publishes (not the subscriber's). */
  get redis (): Redis { return this.publisher.client }

  /** The subscriber connection, to be told when it is (again) ready. */
  get subscriptions (): Redis { return this.subscriber.client }

  /** Calls `handler` with what is published on `channel`, from now on and after reconnections. */
  onRedisMessage (channel: string, handler: RedisMessageHandler): void {
    const handlers = this.raw.get(channel)
    if (handlers !== undefined) {
      handlers.push(handler)
      return
    }
    this.raw.set(channel, [handler])
    this.listenTo(channel)
  }

  override async whenReady (): Promise<void> {
    await Promise.all([this.publisher.open(), this.subscriber.open()])
    // A lease left by a host that died is taken over once it has gone one renewal period unrenewed.
    if (!await this.lease.take()) {
      await Promise.all([this.publisher.close(), this.subscriber.close()])
      throw new ConfigError(`serverName: "${this.base}" is in use by another running host on Redis at ${this.publisher.address} (it renews ${this.lease.key}): give each host its own serverName, or leave it UUID`)
    }
    await this.subscriber.client.subscribe(this.direct, ...this.raw.keys())
    await super.whenReady()
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
    this.publishTo(redisChannel(channel, name), channel, message, frames)
  }

  /** Names of this host's workers go through the rings; names of other hosts' workers through their direct channels. */
  override sendTo (serverNames: readonly string[], channel: string, message: Message, frames?: EncodedFrames): void {
    const local: string[] = []
    for (const name of serverNames) {
      if (this.isLocal(name)) local.push(name)
      else this.publishTo(directChannel(name), channel, message)
    }
    if (local.length > 0) super.sendTo(local, channel, message, frames)
  }

  override sendDirect (serverName: string, channel: string, message: Message): void {
    if (this.isLocal(serverName)) super.sendTo([serverName], channel, message)
    else this.publishTo(directChannel(serverName), channel, message)
  }

  private isLocal (serverName: string): boolean {
    return serverName.length > this.base.length && serverName.startsWith(this.base) && serverName[this.base.length] === '/' &&
      workerIndexOf(serverName) >= 0 && serverName.indexOf('/', this.base.length + 1) === -1
  }

  private publishTo (redisChannelName: string, channel: string, message: Message, frames?: EncodedFrames): void {
    if (this.publisher.client.status !== 'ready') {
      if (!this.dropping) this.logger.warn('CLUSTER_MESSAGE_DROPPED', `worker ${this.index}: Redis is away; messages to other hosts are dropped until it is back`)
      this.dropping = true
      return
    }
    // Buffer.from copies: the envelope views a builder that the next encode reuses.
    const payload = Buffer.from(encodeEnvelope(channel, this.index, message, frameClock.receivedAt, frames, this.base))
    this.publisher.client.publish(redisChannelName, payload).catch(() => {})
  }

  private listenTo (...keys: string[]): void {
    if (keys.length === 0 || this.subscriber.client.status !== 'ready') return
    this.subscriber.client.subscribe(...keys).catch((error: unknown) => {
      this.logger.warn('CLUSTER_SUBSCRIBE_FAILED', `worker ${this.index}: could not subscribe to ${keys.length} name(s) on Redis (${errorMessage(error)}); retrying when it is back`)
    })
  }

  private fromRedis (redisChannelName: string, payload: Buffer): void {
    try {
      const handlers = this.raw.get(redisChannelName)
      if (handlers !== undefined) {
        for (const handler of handlers) handler(payload)
        return
      }
      const { channel, fromWorker, fromHost, message, receivedAt, frames } = decodeEnvelope(payload)
      if (fromHost === null || fromHost === this.base) return
      this.handlers.get(channel)?.(message, workerName(fromHost, fromWorker), receivedAt, frames ?? undefined)
    } catch (error) {
      this.logger.error('CLUSTER_MESSAGE_ERROR', `worker ${this.index} could not handle a message from another host: ${errorStack(error)}`)
    }
  }

  override async close (): Promise<void> {
    await super.close()
    await this.lease.release()
    await Promise.all([this.publisher.close(), this.subscriber.close()])
  }
}

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
 */
import type { Message } from '../../native-free-core/protocol/message.js'
import type { EncodedFrames } from '../../native-free-core/plugins/cluster-node/cluster-node.js'
import type { Logger } from '../../native-free-core/plugins/logger/logger.js'
import type { SharedMemory } from '../../native-free-core/cluster/in-process/shared-memory.js'
import { WorkerClusterNode, workerName } from '../../native-free-core/cluster/in-process/worker-cluster-node.js'
import { decodeEnvelope, encodeEnvelope } from '../../native-free-core/cluster/envelope-codec.js'
import { frameClock } from '../../native-free-core/protocol/frame-clock.js'
import { errorMessage, errorStack } from '../../native-free-core/errors.js'
import { parseRedisOptions, redisAddress, RedisConnection } from './redis-connection.js'

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

  constructor (shared: SharedMemory, index: number, base: string, logger: Logger, options: unknown) {
    const parsed = parseRedisOptions(options, 'clusterNode.options')
    super(shared, index, base, logger, `redis cluster node at ${redisAddress(parsed)}, worker ${index}`)
    this.publisher = new RedisConnection(parsed, logger, `redis cluster node (worker ${index})`)
    this.subscriber = new RedisConnection(parsed, logger, `redis cluster node (worker ${index}, subscriber)`)
    this.subscriber.client.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.fromOtherHost(payload))
    // After a reconnection: names watched while Redis was away were never subscribed.
    this.subscriber.client.on('ready', () => this.listenTo(...this.watched))
    this.publisher.client.on('ready', () => { this.dropping = false })
  }

  override async whenReady (): Promise<void> {
    await Promise.all([this.publisher.open(), this.subscriber.open()])
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
    await super.close()
    await Promise.all([this.publisher.close(), this.subscriber.close()])
  }
}

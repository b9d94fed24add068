/**
 * The cluster registry of hosts joined on Redis: which servers are alive, over every host, and
 * which one leads.
 *
 * - Liveness: each worker renews the lease on its name (`riptide/node/<host>/<index>`, see
 *   redis-cluster-node.ts), and the host is listed in `riptide/hosts` with its number of workers.
 *   A host is alive while any of its workers' leases is. Within a host, the supervisor's notices
 *   say which workers live, as with one host.
 * - The leader: one server holds `riptide/leader`, a lease renewed every second (taken under
 *   SET NX, renewed only by its own host); a host's lowest live worker competes for it.
 * - Removal: four times a second the leader looks for listed hosts none of whose leases is renewed
 *   any more, and removes each by one script that checks the leases again, deletes the host's names
 *   and says so on `riptide/hosts/gone`. Every worker then drops the host's presence, providers,
 *   listen providers and subscriptions, and tells its handlers the host's servers are gone (RPCs
 *   routed there are routed again). Its locks expire with their own leases.
 */
import type { Redis } from 'ioredis'
import type { ClusterRegistry, ServerListener } from '../../native-free-core/plugins/cluster-registry/cluster-registry.js'
import type { Logger } from '../../native-free-core/plugins/logger/logger.js'
import { workerName } from '../../native-free-core/cluster/in-process/worker-cluster-node.js'
import type { WorkerClusterRegistry } from '../../native-free-core/cluster/in-process/worker-cluster-registry.js'
import { errorMessage } from '../../native-free-core/errors.js'
import { leaseKey, type RedisClusterNode } from './redis-cluster-node.js'
import { LEASE_MS, LEASE_RENEW_MS } from './redis-lease.js'
import { HOST_GONE_CHANNEL, HOSTS_KEY, hostSequenceKey, hostStateKey } from './redis-states.js'

/** The key of the leader's lease; its value is the leading server's name. */
export const LEADER_KEY = 'riptide/leader'
/** How often the leader looks for hosts whose leases lapsed: a dead host goes within a lease and this. */
const SWEEP_MS = 250
/** How long a removed host's sequence number is kept, so that one that comes back continues it. */
const SEQUENCE_KEPT_MS = 24 * 60 * 60 * 1000

/** KEYS: leader key; ARGV: this server, ms, its host's prefix. Takes or renews the lead; returns the leader. */
const LEAD = `
local held = redis.call('GET', KEYS[1])
if held == false or string.sub(held, 1, string.len(ARGV[3])) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return held
`
/**
 * KEYS: hosts hash, the host's state hash, its sequence, then its workers' leases. ARGV: host,
 * channel, ms to keep the sequence. Removes the host if none of the leases exists; 1 if removed.
 */
const REMOVE_HOST = `
for i = 4, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1
`

interface RegistryScripts {
  riptideLead (key: string, me: string, ms: number, prefix: string): Promise<string>
  riptideRemoveHost (...keysThenArgs: Array<string | number>): Promise<number>
}

export class RedisClusterRegistry implements ClusterRegistry {
  readonly description: string
  private readonly redis: Redis
  private readonly scripts: RegistryScripts
  /** Other hosts, with their number of workers. */
  private readonly hosts = new Map<string, number>()
  private leader: string | null = null
  private readonly added: ServerListener[] = []
  private readonly removed: ServerListener[] = []
  private timer: NodeJS.Timeout | null = null
  private sweeper: NodeJS.Timeout | null = null
  private sweeping = false
  private closed = false

  constructor (private readonly node: RedisClusterNode, private readonly local: WorkerClusterRegistry, private readonly logger: Logger) {
    this.description = `redis cluster registry (worker ${node.workerIndex})`
    this.redis = node.redis
    this.scripts = this.redis as unknown as RegistryScripts
    this.redis.defineCommand('riptideLead', { numberOfKeys: 1, lua: LEAD })
    this.redis.defineCommand('riptideRemoveHost', { lua: REMOVE_HOST })
    local.onServerAdded((server) => { for (const listener of this.added) listener(server) })
    local.onServerRemoved((server) => { for (const listener of this.removed) listener(server) })
  }

  async whenReady (): Promise<void> {
    this.node.onRedisMessage(HOST_GONE_CHANNEL, (payload) => this.forget(payload.toString()))
    await this.tick()
    this.timer = setInterval(() => { void this.tick() }, LEASE_RENEW_MS)
    this.sweeper = setInterval(() => { void this.sweep() }, SWEEP_MS)
  }

  isLeader (): boolean { return this.getLeader() === this.node.serverName }

  /** The leading server; while Redis cannot say (away), this host's own leader. */
  getLeader (): string { return this.leader ?? this.local.getLeader() }

  getAll (): string[] {
    const all = this.local.getAll()
    for (const [host, workers] of this.hosts) for (let i = 0; i < workers; i++) all.push(workerName(host, i))
    return all
  }

  onServerAdded (listener: ServerListener): void { this.added.push(listener) }
  onServerRemoved (listener: ServerListener): void { this.removed.push(listener) }

  /** Every second: the other hosts listed, and the lead. */
  private async tick (): Promise<void> {
    if (this.closed) return
    try {
      const listed = await this.redis.hgetall(HOSTS_KEY)
      delete listed[this.node.host]
      for (const host of [...this.hosts.keys()]) if (!(host in listed)) this.forget(host)
      for (const [host, count] of Object.entries(listed)) this.learn(host, Number(count))
      this.leader = this.local.isLeader()
        ? await this.scripts.riptideLead(LEADER_KEY, this.node.serverName, LEASE_MS, `${this.node.host}/`)
        : await this.redis.get(LEADER_KEY)
    } catch (error) {
      this.leader = null
      if (this.redis.status === 'ready') this.logger.warn('CLUSTER_REGISTRY_FAILED', `worker ${this.node.workerIndex}: ${errorMessage(error)}`)
    }
  }

  /** The leader, four times a second: removes the hosts none of whose leases is renewed any more. */
  private async sweep (): Promise<void> {
    if (this.closed || this.sweeping || !this.isLeader()) return
    this.sweeping = true
    try {
      await this.removeDeadHosts()
    } catch {
      // Redis is away: the lead is looked at again in the next tick.
    } finally {
      this.sweeping = false
    }
  }

  private async removeDeadHosts (): Promise<void> {
    for (const [host, workers] of this.hosts) {
      const leases = Array.from({ length: workers }, (_, i) => leaseKey(workerName(host, i)))
      const keys = [HOSTS_KEY, hostStateKey(host), hostSequenceKey(host), ...leases]
      if (await this.scripts.riptideRemoveHost(keys.length, ...keys, host, HOST_GONE_CHANNEL, SEQUENCE_KEPT_MS) === 1) {
        this.logger.warn('HOST_REMOVED', `host ${host} stopped renewing its leases; its presence, providers, listeners and subscriptions are removed`)
      }
    }
  }

  private learn (host: string, workers: number): void {
    const known = this.hosts.get(host) ?? 0
    if (known === workers) return
    this.hosts.set(host, workers)
    for (let i = known; i < workers; i++) for (const listener of this.added) listener(workerName(host, i))
  }

  private forget (host: string): void {
    const workers = this.hosts.get(host)
    if (workers === undefined) return
    this.hosts.delete(host)
    for (let i = 0; i < workers; i++) for (const listener of this.removed) listener(workerName(host, i))
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    if (this.sweeper !== null) clearInterval(this.sweeper)
  }
}

/**
 * The state registries of hosts joined on Redis: what this host knows of the names the other hosts
 * hold (online users, RPC providers, listen providers, subscribed names), kept in step through Redis.
 *
 * Each host keeps its names in the hash `riptide/state/<host>` (field: `<registry>\0<name>`,
 * value: the bitmask of its workers that hold it). One worker of the host writes it, the lowest
 * live one: the others tell it of each change of their own bit, and it writes what the shared
 * table says at the time it writes, so two workers' changes cannot reach Redis in the wrong order.
 * Each write goes through one script that also bumps the host's sequence number and publishes the
 * change on `riptide/state` as `<host>\n<seq>\n<mask>\n<key>`.
 *
 * Every worker of every host follows that channel. A host it has not seen yet, or whose sequence
 * skips a number (a notice lost while Redis was away), is read whole (its hash and sequence number,
 * by one script), and the notices that came meanwhile are applied after it, those above its
 * number only. A reconnection reads every host again.
 *
 * The cluster registry removes a host that stopped renewing its leases (redis-cluster-registry.ts):
 * its hash goes, and `riptide/hosts/gone` tells every worker to drop what it knew of that host.
 */
import type { Redis } from 'ioredis'
import type { SharedMemory } from '../../native-free-core/cluster/in-process/shared-memory.js'
import type { Logger } from '../../native-free-core/plugins/logger/logger.js'
import { workerName, workerNames } from '../../native-free-core/cluster/in-process/worker-cluster-node.js'
import { WorkerTable } from '../../native-free-core/cluster/in-process/worker-table.js'
import { SharedStateRegistryFactory, splitStateKey, stateKey, stateNotice, type OtherHosts } from '../../native-free-core/cluster/in-process/shared-state-registry.js'
import { readControl } from '../../native-free-core/cluster/control.js'
import { errorMessage } from '../../native-free-core/errors.js'
import type { RedisClusterNode } from './redis-cluster-node.js'

/** The hash of live hosts: host name to its number of workers. */
export const HOSTS_KEY = 'riptide/hosts'
/** The channel on which the cluster registry says a host is gone (payload: its name). */
export const HOST_GONE_CHANNEL = 'riptide/hosts/gone'
/** The channel of state changes of every host. */
export const STATE_CHANGES_CHANNEL = 'riptide/state'
/** Between the workers of a host: a worker changed its bit of a name (to the writer). */
const TO_WRITER_CHANNEL = 'state/host'
/** How often the writer checks that it is still the writer and its host is still listed. */
const CHECK_MS = 1000

/** The hash of `host`'s names. */
export function hostStateKey (host: string): string { return `riptide/state/${host}` }
/** The sequence number of `host`'s state changes. */
export function hostSequenceKey (host: string): string { return `riptide/state/${host}/seq` }

/** KEYS: state hash, sequence; ARGV: host, key, mask, channel. Sets (or with mask 0 deletes) one name and publishes the change. */
const SET_STATE = `
if ARGV[3] == '0' then redis.call('HDEL', KEYS[1], ARGV[2]) else redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
local seq = redis.call('INCR', KEYS[2])
redis.call('PERSIST', KEYS[2])
redis.call('PUBLISH', ARGV[4], ARGV[1] .. '\\n' .. seq .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[2])
return seq
`
/** KEYS: state hash, sequence. A host's names and the sequence number they are at, read at one instant. */
const READ_STATE = `
return { redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1]) }
`
/** KEYS: the hosts hash; ARGV: this host, key, the prefix of state hashes. 1 if a listed host other than this one holds the key. */
const HELD_ELSEWHERE = `
for _, host in ipairs(redis.call('HKEYS', KEYS[1])) do
  if host ~= ARGV[1] and redis.call('HEXISTS', ARGV[3] .. host, ARGV[2]) == 1 then return 1 end
end
return 0
`
/** How long `whenShared` waits for the writer at most (a lock's lease), and how often it looks. */
const SHARED_WAIT_MS = 1000
const SHARED_POLL_MS = 2

interface StateScripts {
  riptideSetState (hash: string, sequence: string, host: string, key: string, mask: string, channel: string): Promise<number>
  riptideReadState (hash: string, sequence: string): Promise<[string, string[]]>
  riptideHeldElsewhere (hosts: string, host: string, key: string, prefix: string): Promise<number>
}

interface Change { readonly seq: number, readonly mask: number, readonly key: string }

/** What this worker knows of one other host. `pending` holds changes that came while its state was being read. */
interface HostView { seq: number, readonly masks: Map<string, number>, pending: Change[] | null }

export class RedisStates implements OtherHosts {
  private local: SharedStateRegistryFactory | null = null
  private readonly redis: Redis
  private readonly scripts: StateScripts
  private readonly workers: WorkerTable
  private readonly host: string
  private readonly hosts = new Map<string, HostView>()
  /** Key to host to bitmask, over every other host. */
  private readonly byKey = new Map<string, Map<string, number>>()
  // The writer's side.
  private readonly dirty = new Set<string>()
  private readonly written = new Map<string, number>()
  private flushScheduled = false
  private writer = false
  /** The live workers and their generations at the last check: one gone or restarted since had its bits cleared by the supervisor. */
  private generations = new Map<number, number>()
  private needsFullWrite = true
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor (private readonly node: RedisClusterNode, shared: SharedMemory, private readonly logger: Logger) {
    this.redis = node.redis
    this.scripts = this.redis as unknown as StateScripts
    this.redis.defineCommand('riptideSetState', { numberOfKeys: 2, lua: SET_STATE })
    this.redis.defineCommand('riptideReadState', { numberOfKeys: 2, lua: READ_STATE })
    this.redis.defineCommand('riptideHeldElsewhere', { numberOfKeys: 1, lua: HELD_ELSEWHERE })
    this.workers = WorkerTable.attach(shared.workers)
    this.host = node.host
  }

  /** The registries this host's names live in; set once, before whenReady. */
  bind (local: SharedStateRegistryFactory): void { this.local = local }

  async whenReady (): Promise<void> {
    this.node.subscribe(TO_WRITER_CHANNEL, (message) => {
      const notice = readControl(message)
      if (notice?.kind === 'state-notice') this.changed(stateKey(notice.registry, notice.name))
    })
    this.node.onRedisMessage(STATE_CHANGES_CHANNEL, (payload) => this.onChange(payload.toString()))
    this.node.onRedisMessage(HOST_GONE_CHANNEL, (payload) => this.dropHost(payload.toString()))
    this.node.subscriptions.on('ready', () => { void this.readAll() })
    this.redis.on('ready', () => { this.needsFullWrite = true })
    // Listening before reading: what changes after the read comes as notices.
    await this.node.subscriptions.subscribe(STATE_CHANGES_CHANNEL, HOST_GONE_CHANNEL)
    await this.readAll()
    await this.check()
    this.timer = setInterval(() => { void this.check() }, CHECK_MS)
  }

  // ---- OtherHosts: what the registries ask.

  has (key: string): boolean { return this.byKey.has(key) }

  * keys (prefix: string): Iterable<string> {
    for (const key of this.byKey.keys()) if (key.startsWith(prefix)) yield key
  }

  nodesWith (key: string): readonly string[] {
    const holders = this.byKey.get(key)
    if (holders === undefined) return []
    const nodes: string[] = []
    for (const [host, mask] of holders) nodes.push(...workerNames(host, mask))
    return nodes
  }

  changed (key: string): void {
    const writer = this.workers.alive()[0]
    if (writer === this.node.workerIndex) {
      this.dirty.add(key)
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flush())
      }
      return
    }
    const { registry, name } = splitStateKey(key)
    if (writer !== undefined) this.node.sendDirect(workerName(this.host, writer), TO_WRITER_CHANNEL, stateNotice(registry, name))
  }

  /**
   * Resolves once this host's hash in Redis has `bit` of `key` set or clear as the shared table has
   * it now. The write goes through the host's writer, so this looks at the hash until it does; it
   * gives up after a lock's lease, or when Redis is away.
   */
  async whenShared (key: string, bit: number): Promise<void> {
    const wanted = ((this.local?.localMask(key) ?? 0) & bit) !== 0
    const deadline = Date.now() + SHARED_WAIT_MS
    // Away, a command would wait in ioredis's queue for Redis to come back, past the deadline.
    while (!this.closed && this.redis.status === 'ready') {
      try {
        const mask = Number(await this.redis.hget(hostStateKey(this.host), key) ?? 0)
        if (((mask & bit) !== 0) === wanted) return
      } catch {
        return
      }
      if (Date.now() >= deadline) return
      await new Promise((resolve) => setTimeout(resolve, SHARED_POLL_MS))
    }
  }

  /** Whether a listed host other than this one holds `key` in Redis now; false while Redis is away. */
  async heldElsewhere (key: string): Promise<boolean> {
    try {
      return await this.scripts.riptideHeldElsewhere(HOSTS_KEY, this.host, key, hostStateKey('')) === 1
    } catch {
      return false
    }
  }

  // ---- The writer: this host's names to Redis.

  private flush (): void {
    this.flushScheduled = false
    if (this.closed || this.local === null) return
    for (const key of this.dirty) {
      const mask = this.local.localMask(key)
      if ((this.written.get(key) ?? 0) === mask) continue
      if (mask === 0) this.written.delete(key)
      else this.written.set(key, mask)
      this.write(key, mask)
    }
    this.dirty.clear()
  }

  private write (key: string, mask: number): void {
    this.setState(key, mask).catch(() => { this.needsFullWrite = true })
  }

  /**
   * Every second: the lowest live worker writes; it writes everything when it just became the
   * writer, when a worker died or came back (the supervisor cleared its bits), after Redis was
   * away, or when the cluster registry removed this host (it was away for longer than its leases).
   */
  private async check (): Promise<void> {
    if (this.closed || this.local === null) return
    const alive = this.workers.alive()
    const generations = new Map(alive.map((i) => [i, this.workers.generation(i)]))
    let workerLost = false
    for (const [i, generation] of this.generations) if (generations.get(i) !== generation) workerLost = true
    this.generations = generations
    if (alive[0] !== this.node.workerIndex) {
      this.writer = false
      return
    }
    try {
      const listed = await this.redis.hexists(HOSTS_KEY, this.host) === 1
      if (this.writer && !this.needsFullWrite && listed && !workerLost) return
      this.needsFullWrite = false
      this.writer = true
      await this.writeAll()
    } catch (error) {
      this.needsFullWrite = true
      if (this.redis.status === 'ready') this.logger.warn('CLUSTER_STATE_WRITE_FAILED', `worker ${this.node.workerIndex}: could not write this host's names to Redis: ${errorMessage(error)}`)
    }
  }

  /** Makes this host's hash equal to its table, change by change (so every host hears each one), and lists the host. */
  private async writeAll (): Promise<void> {
    const local = this.local!
    const [, flat] = await this.scripts.riptideReadState(hostStateKey(this.host), hostSequenceKey(this.host))
    const inRedis = pairs(flat)
    const wanted = new Map(local.localEntries().map(({ key, mask }) => [key, mask]))
    // What is written from here on is issued after these writes, on the same connection.
    this.written.clear()
    for (const [key, mask] of wanted) this.written.set(key, mask)
    const writes: Array<Promise<number>> = []
    for (const key of inRedis.keys()) if (!wanted.has(key)) writes.push(this.setState(key, 0))
    for (const [key, mask] of wanted) if (inRedis.get(key) !== mask) writes.push(this.setState(key, mask))
    await Promise.all(writes)
    await this.redis.hset(HOSTS_KEY, this.host, String(this.workers.count))
  }

  private setState (key: string, mask: number): Promise<number> {
    return this.scripts.riptideSetState(hostStateKey(this.host), hostSequenceKey(this.host), this.host, key, String(mask), STATE_CHANGES_CHANNEL)
  }

  // ---- Every worker: the other hosts' names from Redis.

  private onChange (payload: string): void {
    const first = payload.indexOf('\n')
    const second = payload.indexOf('\n', first + 1)
    const third = payload.indexOf('\n', second + 1)
    if (first < 0 || second < 0 || third < 0) return
    const host = payload.slice(0, first)
    if (host === this.host) return
    const change: Change = { seq: Number(payload.slice(first + 1, second)), mask: Number(payload.slice(second + 1, third)), key: payload.slice(third + 1) }
    const view = this.hosts.get(host)
    if (view === undefined) {
      this.hosts.set(host, { seq: 0, masks: new Map(), pending: [change] })
      void this.read(host)
      return
    }
    if (view.pending !== null) {
      view.pending.push(change)
      return
    }
    if (change.seq <= view.seq) return
    if (change.seq !== view.seq + 1) {
      // A change was missed: read the host again, keeping this one for after.
      view.pending = [change]
      void this.read(host)
      return
    }
    view.seq = change.seq
    this.set(host, view, change.key, change.mask)
  }

  /** Reads one host's names, then applies the changes that came meanwhile. */
  private async read (host: string): Promise<void> {
    let seq: number
    let flat: string[]
    try {
      [seq, flat] = await this.scripts.riptideReadState(hostStateKey(host), hostSequenceKey(host)).then(([s, f]) => [Number(s), f])
    } catch {
      // Redis is away: everything is read again when it is back.
      return
    }
    const view = this.hosts.get(host)
    if (view === undefined || this.closed) return
    const masks = pairs(flat)
    for (const key of [...view.masks.keys()]) if (!masks.has(key)) this.set(host, view, key, 0)
    for (const [key, mask] of masks) if (view.masks.get(key) !== mask) this.set(host, view, key, mask)
    view.seq = seq
    const pending = view.pending ?? []
    view.pending = null
    for (const change of pending.sort((a, b) => a.seq - b.seq)) {
      if (change.seq <= view.seq) continue
      if (change.seq !== view.seq + 1) {
        view.pending = pending.filter((c) => c.seq > view.seq)
        void this.read(host)
        return
      }
      view.seq = change.seq
      this.set(host, view, change.key, change.mask)
    }
  }

  /** Reads every listed host again (at start and after Redis was away); forgets hosts no longer listed. */
  private async readAll (): Promise<void> {
    let listed: string[]
    try {
      listed = await this.redis.hkeys(HOSTS_KEY)
    } catch {
      return
    }
    for (const host of [...this.hosts.keys()]) if (!listed.includes(host)) this.dropHost(host)
    await Promise.all(listed.filter((host) => host !== this.host).map((host) => {
      const view = this.hosts.get(host)
      if (view === undefined) this.hosts.set(host, { seq: 0, masks: new Map(), pending: [] })
      else view.pending ??= []
      return this.read(host)
    }))
  }

  private dropHost (host: string): void {
    const view = this.hosts.get(host)
    if (view === undefined) return
    this.hosts.delete(host)
    for (const key of [...view.masks.keys()]) this.set(host, view, key, 0)
  }

  private set (host: string, view: HostView, key: string, mask: number): void {
    let holders = this.byKey.get(key)
    if (mask === 0) {
      view.masks.delete(key)
      if (holders === undefined || !holders.delete(host)) return
      if (holders.size === 0) this.byKey.delete(key)
    } else {
      view.masks.set(key, mask)
      if (holders === undefined) this.byKey.set(key, holders = new Map())
      holders.set(host, mask)
    }
    this.local?.reconcileKey(key)
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
  }
}

/** HGETALL's flat reply as a map of bitmasks. */
function pairs (flat: string[]): Map<string, number> {
  const map = new Map<string, number>()
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i], Number(flat[i + 1]))
  return map
}

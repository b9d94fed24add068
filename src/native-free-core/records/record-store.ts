/**
 * Reads and writes records through the cache and storage plugins, with
 * deepstream's rules: reads try the cache, then storage (a storage hit is
 * promoted into the cache); writes go to both, except for names under
 * record.storageExclusionPrefixes, which never touch storage. Every call is
 * bounded by the configured retrieval timeouts.
 */
import type { Cache, Storage, StoredRecord } from '../plugins/cache/cache.js'
import type { LockRegistry } from '../plugins/locks/locks.js'
import type { JSONValue } from '../protocol/message.js'
import type { RiptideConfig } from '../config/schema.js'
import { RECORD_ACTION } from '../protocol/constants.js'
import { Timeouts } from '../timeouts.js'
import { RiptideError } from '../errors.js'
import type { RuntimeTimeouts } from '../config/runtime-timeouts.js'

/** A failed cache or storage call, carrying the record error action to send. */
export class RecordStoreError extends RiptideError {
  override name = 'RecordStoreError'
  constructor (readonly action: number, message: string) { super('RT_RECORD_STORE', message) }
}

/** Bounds calls to one tier (cache or storage) by its retrieval timeout, as it is at each call. */
class Deadlines {
  private lastShared: Promise<unknown> | null = null
  private lastBounded: Promise<unknown> | null = null

  constructor (private readonly timeouts: Timeouts, private readonly ms: () => number, private readonly action: number, private readonly tier: string) {}

  /**
   * As `bound`, with one deadline for the callers in a row that pass the same promise (the flush
   * that many write acknowledgements wait for): it runs from the first of them.
   */
  shared<T> (promise: Promise<T>, what: string): Promise<T> {
    if (promise !== this.lastShared) {
      this.lastShared = promise
      this.lastBounded = this.bound(promise, what)
    }
    return this.lastBounded as Promise<T>
  }

  bound<T> (promise: Promise<T>, what: string): Promise<T> {
    const ms = this.ms()
    if (ms <= 0) return promise
    return new Promise<T>((resolve, reject) => {
      const timeout = this.timeouts.set(ms, () => reject(new RecordStoreError(this.action, `${this.tier} ${what} timed out after ${ms} ms`)))
      promise.then((value) => {
        this.timeouts.clear(timeout)
        resolve(value)
      }, (error: unknown) => {
        this.timeouts.clear(timeout)
        reject(error)
      })
    })
  }
}

export class RecordStore {
  private readonly timeouts = new Timeouts()
  private readonly cacheDeadlines: Deadlines
  private readonly storageDeadlines: Deadlines

  constructor (
    private readonly cache: Cache,
    private readonly storage: Storage,
    private readonly settings: RiptideConfig['record'],
    private readonly locks: LockRegistry,
    private readonly runtime: RuntimeTimeouts,
  ) {
    this.cacheDeadlines = new Deadlines(this.timeouts, () => runtime.get('record.cacheRetrievalTimeout'), RECORD_ACTION.CACHE_RETRIEVAL_TIMEOUT, 'cache')
    this.storageDeadlines = new Deadlines(this.timeouts, () => runtime.get('record.storageRetrievalTimeout'), RECORD_ACTION.STORAGE_RETRIEVAL_TIMEOUT, 'storage')
  }

  /** Stops the retrieval timers (the server is closing). */
  close (): void { this.timeouts.close() }

  /** Whether the cache decides versions itself (compare-and-set); otherwise `exclusively` takes a lock. */
  get cacheDecidesVersions (): boolean { return this.cache.setIfVersion !== undefined }

  /**
   * Runs a read-decide-write step of one record. With a cache that can compare-and-set it just runs:
   * a lost race shows as a failed setIfVersion. With one that cannot (deepstream's own cache
   * plugins), it runs under the cluster lock `record-version/<name>`, so that the workers of this
   * host, which share the lock registry, decide each version once. Writers outside the registry
   * (another process on the same cache) are not covered.
   */
  async exclusively<T> (name: string, step: () => Promise<T>): Promise<T> {
    if (this.cacheDecidesVersions) return step()
    const lock = `record-version/${name}`
    const deadline = Date.now() + this.runtime.get('record.cacheRetrievalTimeout') + this.runtime.get('record.storageRetrievalTimeout')
    for (let wait = 1; !(await this.locks.get(lock)); wait = Math.min(wait * 2, 16)) {
      if (Date.now() > deadline) throw new RecordStoreError(RECORD_ACTION.RECORD_UPDATE_ERROR, `another writer held record "${name}" too long`)
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
    try {
      return await step()
    } finally {
      this.locks.release(lock)
    }
  }

  /** False for names under storageExclusionPrefixes, and for every name when the storage keeps nothing. */
  usesStorage (name: string): boolean {
    if (this.storage.storesNothing === true) return false
    for (const prefix of this.settings.storageExclusionPrefixes) if (name.startsWith(prefix)) return false
    return true
  }

  isHotPath (name: string): boolean {
    for (const prefix of this.settings.storageHotPathPrefixes) if (name.startsWith(prefix)) return true
    return false
  }

  private fromCache<T> (promise: Promise<T>, what: string): Promise<T> {
    return this.cacheDeadlines.bound(promise, what)
  }

  private fromStorage<T> (promise: Promise<T>, what: string): Promise<T> {
    return this.storageDeadlines.bound(promise, what)
  }

  async load (name: string): Promise<StoredRecord | null> {
    const cached = await this.fromCache(this.cache.get(name), 'get')
    if (cached !== null || !this.usesStorage(name)) return cached
    const stored = await this.fromStorage(this.storage.get(name), 'get')
    if (stored === null) return null
    // Promote, unless another writer has put the name in the cache meanwhile.
    const promoted = this.cache.setIfVersion === undefined
      ? this.cache.set(name, stored.version, stored.data).then(() => true)
      : this.cache.setIfVersion(name, -1, stored.version, stored.data)
    return await this.fromCache(promoted, 'set') ? stored : await this.load(name)
  }

  /**
   * The record's version. A record that only storage holds is promoted into the cache as `load`
   * does: a conditional write that follows is decided against the cache, which must then hold it.
   */
  async head (name: string): Promise<number> {
    const version = await this.fromCache(this.cache.head(name), 'head')
    if (version !== -1 || !this.usesStorage(name)) return version
    return (await this.load(name))?.version ?? -1
  }

  headBulk (names: string[]): Promise<{ versions: Record<string, number>, missing: string[] }> {
    return this.fromCache(this.cache.headBulk(names), 'headBulk')
  }

  /** Resolves once both the cache and (unless excluded) the storage hold the write. */
  async write (name: string, version: number, data: JSONValue): Promise<void> {
    const writes = [this.fromCache(this.cache.set(name, version, data), 'set')]
    if (this.usesStorage(name)) writes.push(this.fromStorage(this.storage.set(name, version, data), 'set'))
    await Promise.all(writes)
  }

  /**
   * Writes only if the cache still holds version `expected` (-1: absent),
   * then storage. Resolves false, writing nothing, when another writer won.
   * A cache without setIfVersion is written unconditionally: the caller holds
   * the record's lock then (see exclusively).
   */
  async writeIfVersion (name: string, expected: number, version: number, data: JSONValue): Promise<boolean> {
    if (this.cache.setIfVersion === undefined) {
      await this.write(name, version, data)
      return true
    }
    const won = await this.fromCache(this.cache.setIfVersion(name, expected, version, data), 'setIfVersion')
    if (won && this.usesStorage(name)) await this.fromStorage(this.storage.set(name, version, data), 'set')
    return won
  }

  /** Resolves once every write to the tiers that hold `name` is durable (see Storage.durable). */
  durable (name: string): Promise<void> {
    const cache = this.cache.durable === undefined ? undefined : this.cacheDeadlines.shared(this.cache.durable(), 'durable')
    const storage = this.storage.durable === undefined || !this.usesStorage(name) ? undefined : this.storageDeadlines.shared(this.storage.durable(), 'durable')
    if (storage === undefined) return cache ?? Promise.resolve()
    return cache === undefined ? storage : Promise.all([cache, storage]).then(() => {})
  }

  async delete (name: string): Promise<void> {
    const deletes = [this.fromCache(this.cache.delete(name), 'delete')]
    if (this.usesStorage(name)) deletes.push(this.fromStorage(this.storage.delete(name), 'delete'))
    await Promise.all(deletes)
  }

  /** Drops names that storage holds from the cache, so the next read comes from storage (record.notify). */
  evict (names: string[]): Promise<void> {
    return this.fromCache(this.cache.deleteBulk(names.filter((name) => this.usesStorage(name))), 'deleteBulk')
  }

  /** The record as storage holds it; the cache's copy for cache-only names. */
  readStorage (name: string): Promise<StoredRecord | null> {
    if (!this.usesStorage(name)) return this.fromCache(this.cache.get(name), 'get')
    return this.fromStorage(this.storage.get(name), 'get')
  }
}

/** A batch queued behind a name's running step: items join it until it starts. */
interface OpenBatch { readonly kind: string, readonly items: unknown[], readonly done: Promise<void> }

/**
 * Runs steps for one name strictly one after another; names do not wait for
 * each other. A batch step takes every item of its kind that arrived while
 * the steps before it ran (group commit: the writes to a record that queue
 * behind a commit are decided and committed together).
 */
export class SerialQueues {
  private readonly tails = new Map<string, Promise<void>>()
  private readonly open = new Map<string, OpenBatch>()

  run (name: string, step: () => Promise<void>): Promise<void> {
    // A batch queued before this step must not take items that arrive after it.
    this.open.delete(name)
    const previous = this.tails.get(name) ?? Promise.resolve()
    const next = previous.then(step, step)
    const tail = next.catch(() => {})
    this.tails.set(name, tail)
    void tail.then(() => { if (this.tails.get(name) === tail) this.tails.delete(name) })
    return next
  }

  /**
   * Adds `item` to the batch of `kind` queued for `name` that has not started, or queues a new one
   * that `runBatch` runs with its items in arrival order. Resolves or rejects as that step does.
   */
  batch<T> (name: string, kind: string, item: T, runBatch: (items: T[]) => Promise<void>): Promise<void> {
    const queued = this.open.get(name)
    if (queued !== undefined && queued.kind === kind) {
      queued.items.push(item)
      return queued.done
    }
    const items: T[] = [item]
    const done = this.run(name, () => {
      if (this.open.get(name)?.items === items) this.open.delete(name)
      return runBatch(items)
    })
    this.open.set(name, { kind, items, done })
    return done
  }

  /** Resolves once the steps queued for `name` so far have finished (at once when none are). */
  settled (name: string): Promise<void> {
    return this.tails.get(name) ?? Promise.resolve()
  }

  /** Resolves when every queued step has finished. */
  async idle (): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()])
  }
}

/**
 * deepstream 7's own cache and storage plugins, loaded unchanged. Their methods take a callback
 * last (`get(name, (error, version, data) => …)`, `set(name, version, data, (error) => …)`) where
 * riptide's return promises; a plugin is taken to be of deepstream's kind when its `get` declares
 * two or more parameters, and is then wrapped into riptide's Cache interface. It gets no
 * `setIfVersion`, so riptide decides its versions under a lock per record (record-handler.ts).
 */
import type { Cache, StoredRecord } from './cache/cache.js'
import type { JSONValue } from '../protocol/message.js'

type Callback = (error: unknown, ...results: unknown[]) => void
type CallbackMethod = (...args: unknown[]) => unknown

/** The shape of a deepstream 7 cache or storage connector (`@deepstream/types`' StoragePlugin). */
interface CallbackStore {
  readonly description?: string
  init?(): unknown
  whenReady?(): Promise<void>
  close?(): Promise<void>
  get: CallbackMethod
  set: CallbackMethod
  delete: CallbackMethod
  deleteBulk?: CallbackMethod
  headBulk?: CallbackMethod
}

/** Whether a cache or storage instance takes callbacks (deepstream's style) rather than returning promises. */
export function takesCallbacks (instance: unknown): instance is CallbackStore {
  const get = (instance as { get?: unknown }).get
  return typeof get === 'function' && get.length >= 2
}

function asError (error: unknown): Error {
  return error instanceof Error ? error : new Error(typeof error === 'string' ? error : JSON.stringify(error))
}

/** Calls `method` with a callback appended and resolves with the callback's results. */
function call (store: CallbackStore, method: CallbackMethod, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const done: Callback = (error, ...results) => {
      if (error !== null && error !== undefined) reject(asError(error))
      else resolve(results)
    }
    try {
      method.call(store, ...args, done)
    } catch (error) {
      reject(asError(error))
    }
  })
}

/** riptide's Cache (and Storage) over a deepstream callback-style connector. */
export class CallbackStoreAdapter implements Cache {
  readonly description: string

  /**
   * `kind`: deepstream calls deleteBulk on caches only, and its storage connectors leave it
   * unimplemented (PostgreSQL's throws), so a storage's bulk delete is one delete per name.
   */
  constructor (private readonly store: CallbackStore, private readonly kind: 'cache' | 'storage') {
    this.description = `${store.description ?? 'deepstream plugin'} (deepstream callback API)`
  }

  async init (): Promise<void> { await this.store.init?.() }
  async whenReady (): Promise<void> { await this.store.whenReady?.() }
  async close (): Promise<void> { await this.store.close?.() }

  async get (name: string): Promise<StoredRecord | null> {
    const [version, data] = await call(this.store, this.store.get, name)
    return typeof version !== 'number' || version === -1 || data === null || data === undefined ? null : { version, data: data as JSONValue }
  }

  async set (name: string, version: number, data: JSONValue): Promise<void> {
    await call(this.store, this.store.set, name, version, data)
  }

  /**
   * Deleting a missing name succeeds, as riptide's Storage promises. Some connectors fail on it
   * (PostgreSQL's, once the record's table is gone); the delete then counts as done if a read
   * finds nothing under the name.
   */
  async delete (name: string): Promise<void> {
    try {
      await call(this.store, this.store.delete, name)
    } catch (error) {
      if (await this.get(name).catch(() => undefined) !== null) throw error
    }
  }

  async deleteBulk (names: string[]): Promise<void> {
    if (names.length === 0) return
    if (this.kind === 'cache' && this.store.deleteBulk !== undefined) await call(this.store, this.store.deleteBulk, names)
    else for (const name of names) await this.delete(name) // one at a time: PostgreSQL's drops a table its delete empties
  }

  async head (name: string): Promise<number> {
    const { versions } = await this.headBulk([name])
    return versions[name] ?? -1
  }

  async headBulk (names: string[]): Promise<{ versions: Record<string, number>, missing: string[] }> {
    if (this.store.headBulk !== undefined) {
      const [versions, missing] = await call(this.store, this.store.headBulk, names)
      return { versions: (versions ?? {}) as Record<string, number>, missing: (missing ?? []) as string[] }
    }
    const versions: Record<string, number> = {}
    const missing: string[] = []
    for (const name of names) {
      const record = await this.get(name)
      if (record === null) missing.push(name)
      else versions[name] = record.version
    }
    return { versions, missing }
  }
}

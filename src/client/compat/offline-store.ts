/**
 * The offline record cache's stores, with @deepstream/client 7's interface (`RecordOfflineStore`),
 * so that a store written for it works here. A record that is not stored reads as version -1.
 */
export type OfflineStoreWriteResponse = (error: string | null) => void

export interface RecordOfflineStore {
  get (recordName: string, callback: (recordName: string, version: number, data: unknown) => void): void
  set (recordName: string, version: number, data: unknown, callback: OfflineStoreWriteResponse): void
  delete (recordName: string, callback: OfflineStoreWriteResponse): void
  reset (callback: (error: string | null) => void): void
}

/** Kept for the client's lifetime: records survive reconnections, not a restart. The default. */
export class MemoryRecordStore implements RecordOfflineStore {
  private readonly records = new Map<string, { version: number, data: string }>()

  get (recordName: string, callback: (recordName: string, version: number, data: unknown) => void): void {
    const stored = this.records.get(recordName)
    queueMicrotask(() => callback(recordName, stored?.version ?? -1, stored === undefined ? null : JSON.parse(stored.data)))
  }

  set (recordName: string, version: number, data: unknown, callback: OfflineStoreWriteResponse): void {
    this.records.set(recordName, { version, data: JSON.stringify(data) })
    queueMicrotask(() => callback(null))
  }

  delete (recordName: string, callback: OfflineStoreWriteResponse): void {
    this.records.delete(recordName)
    queueMicrotask(() => callback(null))
  }

  reset (callback: (error: string | null) => void): void {
    this.records.clear()
    queueMicrotask(() => callback(null))
  }
}

/** The part of the Web Storage API (`localStorage`) this store uses. */
export interface WebStorageLike {
  getItem (key: string): string | null
  setItem (key: string, value: string): void
  removeItem (key: string): void
  key (index: number): string | null
  readonly length: number
}

/** In a Web Storage (a browser's `localStorage`): records survive page loads. Keys start with `prefix`. */
export class WebStorageRecordStore implements RecordOfflineStore {
  constructor (private readonly storage: WebStorageLike, private readonly prefix = 'riptide/record/') {}

  get (recordName: string, callback: (recordName: string, version: number, data: unknown) => void): void {
    const text = this.storage.getItem(this.prefix + recordName)
    const stored = text === null ? null : JSON.parse(text) as { version: number, data: unknown }
    queueMicrotask(() => callback(recordName, stored?.version ?? -1, stored?.data ?? null))
  }

  set (recordName: string, version: number, data: unknown, callback: OfflineStoreWriteResponse): void {
    this.attempt(() => this.storage.setItem(this.prefix + recordName, JSON.stringify({ version, data })), callback)
  }

  delete (recordName: string, callback: OfflineStoreWriteResponse): void {
    this.attempt(() => this.storage.removeItem(this.prefix + recordName), callback)
  }

  reset (callback: (error: string | null) => void): void {
    this.attempt(() => {
      const keys: string[] = []
      for (let i = 0; i < this.storage.length; i++) {
        const key = this.storage.key(i)
        if (key?.startsWith(this.prefix) === true) keys.push(key)
      }
      for (const key of keys) this.storage.removeItem(key)
    }, callback)
  }

  /** A full storage (QuotaExceededError) is an error for the callback, not a throw. */
  private attempt (write: () => void, callback: OfflineStoreWriteResponse): void {
    let error: string | null = null
    try {
      write()
    } catch (failure) {
      error = (failure as Error).message
    }
    queueMicrotask(() => callback(error))
  }
}

/** Where records persist across page loads: `localStorage` where there is one, else memory (the client's lifetime). */
export function defaultOfflineStore (): RecordOfflineStore {
  const local = (globalThis as { localStorage?: WebStorageLike }).localStorage
  return local !== undefined ? new WebStorageRecordStore(local) : new MemoryRecordStore()
}

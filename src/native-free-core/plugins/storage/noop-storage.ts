import type { Storage, StoredRecord } from '../cache/cache.js'
import { SimplePlugin } from '../plugin.js'

/** Storage that keeps nothing: every read misses. The default when no storage is configured. */
export class NoopStorage extends SimplePlugin implements Storage {
  readonly description = 'no-op storage'
  readonly storesNothing = true
  async get (): Promise<StoredRecord | null> { return null }
  async set (): Promise<void> {}
  async delete (): Promise<void> {}
  async deleteBulk (): Promise<void> {}
}

import { MemoryCache } from '../cache/memory-cache.js'
import type { Storage } from '../cache/cache.js'

/** A Map-backed storage for tests and ephemeral deployments that want reads to hit. */
export class MemoryStorage extends MemoryCache implements Storage {
  override readonly description = 'in-memory storage'
}

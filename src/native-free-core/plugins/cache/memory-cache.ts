import type { Cache, StoredRecord } from './cache.js'
import { SimplePlugin } from '../plugin.js'
import type { JSONValue } from '../../protocol/message.js'

/**
 * The in-process cache: a Map, no eviction, no TTL (as deepstream's
 * LocalCache). Values are kept as JSON text so that callers can never
 * mutate a stored record through a shared reference.
 */
export class MemoryCache extends SimplePlugin implements Cache {
  readonly description: string = 'in-memory cache'
  private readonly records = new Map<string, { version: number, json: string }>()

  async get (name: string): Promise<StoredRecord | null> {
    const entry = this.records.get(name)
    return entry === undefined ? null : { version: entry.version, data: JSON.parse(entry.json) as JSONValue }
  }

  async set (name: string, version: number, data: JSONValue): Promise<void> {
    this.records.set(name, { version, json: JSON.stringify(data) })
  }

  async setIfVersion (name: string, expected: number, version: number, data: JSONValue): Promise<boolean> {
    if ((this.records.get(name)?.version ?? -1) !== expected) return false
    this.records.set(name, { version, json: JSON.stringify(data) })
    return true
  }

  async delete (name: string): Promise<void> { this.records.delete(name) }

  async deleteBulk (names: string[]): Promise<void> { for (const name of names) this.records.delete(name) }

  async head (name: string): Promise<number> { return this.records.get(name)?.version ?? -1 }

  async headBulk (names: string[]): Promise<{ versions: Record<string, number>, missing: string[] }> {
    const versions: Record<string, number> = {}
    const missing: string[] = []
    for (const name of names) {
      const entry = this.records.get(name)
      if (entry === undefined) missing.push(name)
      else versions[name] = entry.version
    }
    return { versions, missing }
  }

  override async close (): Promise<void> { this.records.clear() }
}

import { describe, expect, it } from 'vitest'
import type { Cache, Storage } from '../index.js'

/** Builds a plugin and starts it as the server would (init, then whenReady). */
function started<T extends Storage> (create: () => T | Promise<T>): () => Promise<T> {
  return async () => {
    const plugin = await create()
    await plugin.init?.()
    await plugin.whenReady()
    return plugin
  }
}

/** The contract every Storage implementation must meet. */
export function storageSuite (name: string, build: () => Storage | Promise<Storage>): void {
  const create = started(build)
  describe(`storage conformance: ${name}`, () => {
    it('reads back what it wrote and null for unknown names', async () => {
      const storage = await create()
      await storage.set('a', 3, { x: [1, 2] })
      expect(await storage.get('a')).toEqual({ version: 3, data: { x: [1, 2] } })
      expect(await storage.get('missing')).toBeNull()
      await storage.close()
    })

    it('deletes one or many names, ignoring missing ones', async () => {
      const storage = await create()
      await storage.set('a', 1, {})
      await storage.set('b', 1, [])
      await storage.delete('a')
      await storage.delete('never')
      expect(await storage.get('a')).toBeNull()
      await storage.deleteBulk(['b', 'never'])
      expect(await storage.get('b')).toBeNull()
      await storage.close()
    })

    it('does not let a caller change a stored record through the object it read', async () => {
      const storage = await create()
      await storage.set('a', 1, { n: 1 })
      const read = await storage.get('a')
      ;(read?.data as { n: number }).n = 99
      expect(await storage.get('a')).toEqual({ version: 1, data: { n: 1 } })
      await storage.close()
    })
  })
}

/**
 * The contract every Cache implementation must meet (a Cache is also a Storage). riptide's own
 * caches compare-and-set; deepstream's cache plugins cannot (`compareAndSet: false`), and riptide
 * then decides versions under a lock instead.
 */
export function cacheSuite (name: string, build: () => Cache | Promise<Cache>, { compareAndSet = true } = {}): void {
  storageSuite(name, build)
  const create = started(build)
  describe(`cache conformance: ${name}`, () => {
    it('heads versions without values, -1 when missing', async () => {
      const cache = await create()
      await cache.set('a', 4, { big: 'x'.repeat(1000) })
      expect(await cache.head('a')).toBe(4)
      expect(await cache.head('missing')).toBe(-1)
      expect(await cache.headBulk(['a', 'missing'])).toEqual({ versions: { a: 4 }, missing: ['missing'] })
      await cache.close()
    })

    if (!compareAndSet) {
      it('offers no setIfVersion, so the record handler decides versions under a lock', async () => {
        const cache = await create()
        expect(cache.setIfVersion).toBeUndefined()
        await cache.close()
      })
    }

    if (compareAndSet) it('writes conditionally on the current version, -1 meaning absent; any other version fails on a missing name', async () => {
      const cache = await create()
      if (cache.setIfVersion === undefined) throw new Error('riptide caches implement setIfVersion')
      expect(await cache.setIfVersion('missing', 0, 1, {})).toBe(false)
      expect(await cache.head('missing')).toBe(-1)
      expect(await cache.setIfVersion('c', -1, 0, {})).toBe(true)
      expect(await cache.setIfVersion('c', -1, 0, { late: true })).toBe(false)
      expect(await cache.setIfVersion('c', 0, 1, { n: 1 })).toBe(true)
      const race = await Promise.all([cache.setIfVersion('c', 1, 2, { by: 'a' }), cache.setIfVersion('c', 1, 2, { by: 'b' })])
      expect(race.filter(Boolean)).toHaveLength(1)
      expect((await cache.get('c'))?.data).toEqual(race[0] ? { by: 'a' } : { by: 'b' })
      await cache.close()
    })

    it('forgets a deleted name entirely, so it is created again from version 0', async () => {
      const cache = await create()
      await cache.set('d', 7, { old: true })
      await cache.delete('d')
      expect(await cache.head('d')).toBe(-1)
      if (compareAndSet) expect(await cache.setIfVersion?.('d', -1, 0, {})).toBe(true)
      else await cache.set('d', 0, {})
      expect(await cache.get('d')).toEqual({ version: 0, data: {} })
      await cache.durable?.()
      await cache.close()
    })
  })
}

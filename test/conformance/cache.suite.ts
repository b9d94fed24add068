import { describe, expect, it } from 'vitest'
import type { Cache, Storage } from '../../src/index.js'

/** The contract every Storage implementation must meet. */
export function storageSuite (name: string, create: () => Storage | Promise<Storage>): void {
  describe(`storage conformance: ${name}`, () => {
    it('reads back what it wrote and null for unknown names', async () => {
      const storage = await create()
      await storage.whenReady()
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

/** The contract every Cache implementation must meet (a Cache is also a Storage). */
export function cacheSuite (name: string, create: () => Cache | Promise<Cache>): void {
  storageSuite(name, create)
  describe(`cache conformance: ${name}`, () => {
    it('heads versions without values, -1 when missing', async () => {
      const cache = await create()
      await cache.set('a', 4, { big: 'x'.repeat(1000) })
      expect(await cache.head('a')).toBe(4)
      expect(await cache.head('missing')).toBe(-1)
      expect(await cache.headBulk(['a', 'missing'])).toEqual({ versions: { a: 4 }, missing: ['missing'] })
      await cache.close()
    })
  })
}

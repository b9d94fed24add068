import { describe, expect, it } from 'vitest'
import type { LockRegistry, StateRegistryFactory, SubscriptionRegistryFactory, ClusterRegistry, ClusterNode, Message } from '../index.js'
import type { Socket } from '../native-free-core/connection/socket.js'
import { jsonCodec } from '../native-free-core/protocol/json-codec.js'
import { protobufCodec } from '../native-free-core/protocol/protobuf-codec.js'

export function stateRegistrySuite (name: string, create: () => StateRegistryFactory): void {
  describe(`state registry conformance: ${name}`, () => {
    it('reference-counts names and signals the first add and the last remove', async () => {
      const factory = create()
      await factory.whenReady()
      const registry = factory.getStateRegistry('users')
      const added: string[] = []
      const removed: string[] = []
      registry.onAdd((n) => added.push(n))
      registry.onRemove((n) => removed.push(n))
      registry.add('u')
      registry.add('u')
      expect(registry.has('u')).toBe(true)
      registry.remove('u')
      expect(removed).toEqual([])
      registry.remove('u')
      registry.remove('u')
      expect(added).toEqual(['u'])
      expect(removed).toEqual(['u'])
      expect(registry.getAll()).toEqual([])
      expect(factory.getStateRegistry('users')).toBe(registry)
      await factory.close()
    })
  })
}

export function lockRegistrySuite (name: string, create: () => LockRegistry): void {
  describe(`lock registry conformance: ${name}`, () => {
    it('grants a lock once until released, and releases it after its lease', async () => {
      const locks = create()
      expect(await locks.get('l')).toBe(true)
      expect(await locks.get('l')).toBe(false)
      locks.release('l')
      locks.release('never-held')
      expect(await locks.get('l')).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 80))
      expect(await locks.get('l')).toBe(true)
      await locks.close()
    })
  })
}

function fakeSocket (id: number, codec = protobufCodec): Socket & { frames: Array<Uint8Array | string> } {
  const frames: Array<Uint8Array | string> = []
  return { id, codec, endpoint: 'test', user: null, isClosed: false, frames, send: (m: Message) => frames.push(codec.encode(m)), sendFrame: (f) => frames.push(f), close: () => {} }
}

export function subscriptionRegistrySuite (name: string, create: () => SubscriptionRegistryFactory): void {
  describe(`subscription registry conformance: ${name}`, () => {
    it('tracks subscribers, signals first and last, and fans out to all but the sender, encoding once per codec', async () => {
      const registry = create().getSubscriptionRegistry('event')
      const signals: string[] = []
      registry.setListener({ onFirstSubscription: (n) => signals.push(`+${n}`), onLastSubscription: (n) => signals.push(`-${n}`) })
      const a = fakeSocket(1)
      const b = fakeSocket(2)
      const c = fakeSocket(3, jsonCodec)
      expect(registry.subscribe('n', a)).toBe(true)
      expect(registry.subscribe('n', a)).toBe(false)
      registry.subscribe('n', b)
      registry.subscribe('n', c)
      expect(registry.hasSubscribers('n')).toBe(true)
      expect(registry.getNames()).toEqual(['n'])
      const count = registry.publish('n', { topic: 4, action: 2, name: 'n', data: '1' }, a)
      expect(count).toBe(2)
      expect(a.frames).toEqual([])
      expect(b.frames).toHaveLength(1)
      expect(typeof c.frames[0]).toBe('string')
      expect(registry.removeSocket(b)).toEqual(['n'])
      expect(registry.unsubscribe('n', b)).toBe(false)
      registry.unsubscribe('n', a)
      registry.unsubscribe('n', c)
      expect(signals).toEqual(['+n', '-n'])
      expect(registry.getLocalSubscribers('n').size).toBe(0)
    })
  })
}

export function clusterSuite (name: string, createNode: () => ClusterNode, createRegistry: () => ClusterRegistry): void {
  describe(`cluster conformance: ${name}`, () => {
    it('a lone node leads and lists itself; sends go nowhere', async () => {
      const node = createNode()
      const registry = createRegistry()
      await node.whenReady()
      node.subscribe('x', () => { throw new Error('a node never receives its own sends') })
      node.send('x', { topic: 4, action: 2 })
      expect(registry.isLeader()).toBe(true)
      expect(registry.getAll()).toEqual([registry.getLeader()])
      await node.close()
    })
  })
}

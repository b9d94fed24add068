/**
 * Which JIF items are valid: every shape deepstream 7 accepts, and the near misses it refuses
 * (the refusal texts themselves are checked against deepstream in test/differential/jif.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { parseJifItem } from '../src/native-free-core/endpoints/jif-items.js'

const valid = (item: unknown): boolean => 'item' in parseJifItem(JSON.parse(JSON.stringify(item)))

describe('JIF items', () => {
  it('accepts every item shape', () => {
    for (const item of [
      { topic: 'event', action: 'emit', eventName: 'e' },
      { topic: 'event', action: 'emit', eventName: 'e', data: null },
      { topic: 'rpc', action: 'make', rpcName: 'r', data: [1] },
      { topic: 'record', action: 'read', recordName: 'a' },
      { topic: 'record', action: 'head', recordName: 'a' },
      { topic: 'record', action: 'delete', recordName: 'a' },
      { topic: 'record', action: 'write', recordName: 'a', data: { x: 1 } },
      { topic: 'record', action: 'write', recordName: 'a', data: [1, 2], version: -1 },
      { topic: 'record', action: 'write', recordName: 'a', path: 'x.y', data: 5, version: 3 },
      { topic: 'record', action: 'write', recordName: 'a', path: '', data: null },
      { topic: 'record', action: 'notify', recordNames: ['a', ''] },
      { topic: 'list', action: 'read', listName: 'l' },
      { topic: 'list', action: 'delete', listName: 'l' },
      { topic: 'list', action: 'write', listName: 'l', data: ['a'], version: 0 },
      { topic: 'presence', action: 'query' },
      { topic: 'presence', action: 'query', names: ['ada'] },
    ]) expect(valid(item), JSON.stringify(item)).toBe(true)
  })

  it('refuses extra keys, wrong types, empty names and versions that are not integers from -1', () => {
    for (const item of [
      'text', [], null,
      { topic: 'event', action: 'emit' },
      { topic: 'event', action: 'emit', eventName: '' },
      { topic: 'event', action: 'emit', eventName: 'e', extra: 1 },
      { topic: 'event', action: 'emit', eventName: 'e', toString: 1 },
      { topic: 'event', action: 'make', eventName: 'e' },
      { topic: 'rpc', action: 'make', rpcName: 5 },
      { topic: 'record', action: 'read', recordName: 'a', data: {} },
      { topic: 'record', action: 'write', recordName: 'a', data: 5 },
      { topic: 'record', action: 'write', recordName: 'a', data: null },
      { topic: 'record', action: 'write', recordName: 'a', path: 'x' },
      { topic: 'record', action: 'write', recordName: 'a', path: 5, data: 1 },
      { topic: 'record', action: 'write', recordName: 'a', data: {}, version: -2 },
      { topic: 'record', action: 'write', recordName: 'a', data: {}, version: 1.5 },
      { topic: 'record', action: 'write', recordName: 'a', data: {}, version: 2 ** 53 },
      { topic: 'record', action: 'notify', recordNames: ['a', 1] },
      { topic: 'list', action: 'write', listName: 'l', data: ['a', 1] },
      { topic: 'list', action: 'write', listName: 'l', data: {} },
      { topic: 'presence', action: 'query', names: 'ada' },
    ]) expect(valid(item), JSON.stringify(item)).toBe(false)
  })
})

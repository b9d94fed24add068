/**
 * Differential: the HTTP JSON Interaction Format at POST /api: every item type, their success
 * shapes, every failure (conflicts, missing records, denials, RPC errors, rejections, no provider,
 * bad requests, failed authentication), and what WebSocket clients see of HTTP writes and emits.
 */
import { describe, expect, it } from 'vitest'
import { eventually } from '../helpers.js'
import { ADA, BOB, usePeers } from './peers.js'
import { differential, postJif, stockClient, WireClient } from './wire.js'
import { EVENT_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'

const as = (authData: Record<string, unknown>, ...body: unknown[]) => ({ authData, body })

describe('differential: JIF over HTTP', () => {
  const peers = usePeers()

  it('answers record and list items with deepstream\'s success shapes', () => differential('jif records and lists', peers, async (peer) => {
    // One item per request: deepstream runs a request's items at once, so a read could overtake a write.
    const items = [
      { topic: 'record', action: 'write', recordName: 'jif/1', data: { a: 1 }, version: 1 },
      { topic: 'record', action: 'write', recordName: 'jif/1', path: 'b', data: 2, version: 2 },
      { topic: 'record', action: 'read', recordName: 'jif/1' },
      { topic: 'record', action: 'head', recordName: 'jif/1' },
      { topic: 'record', action: 'head', recordName: 'jif/none' },
      { topic: 'record', action: 'notify', recordNames: ['jif/1'] },
      { topic: 'list', action: 'write', listName: 'jif/list', data: ['x', 'y'], version: 1 },
      { topic: 'list', action: 'read', listName: 'jif/list' },
      { topic: 'list', action: 'delete', listName: 'jif/list' },
      { topic: 'record', action: 'delete', recordName: 'jif/1' },
      { topic: 'record', action: 'read', recordName: 'jif/1' },
    ]
    const answers = []
    for (const item of items) answers.push(await postJif(peer, as(BOB, item)))
    return answers
  }))

  it('acknowledges a write without a version', () => differential('jif write without version', peers, async (peer) => [
    await postJif(peer, as(BOB, { topic: 'record', action: 'write', recordName: 'jif/nov', data: { a: 1 } })),
    await postJif(peer, as(BOB, { topic: 'record', action: 'read', recordName: 'jif/nov' })),
  ]))

  it('answers a lost versioned write, a version from the future and a missing record as deepstream does', () => differential('jif record failures', peers, async (peer) => {
    await postJif(peer, as(BOB, { topic: 'record', action: 'write', recordName: 'jif/v', data: { n: 1 }, version: 1 }))
    const answers = []
    for (const item of [
      { topic: 'record', action: 'write', recordName: 'jif/v', data: { n: 2 }, version: 1 },
      { topic: 'record', action: 'write', recordName: 'jif/v', data: { n: 9 }, version: 9 },
      { topic: 'record', action: 'read', recordName: 'jif/missing' },
    ]) answers.push(await postJif(peer, as(BOB, item)))
    return answers
  }))

  it('accepts the next version after refusing one from the future', () => differential('write after a refused future version', peers, async (peer) => {
    await postJif(peer, as(BOB, { topic: 'record', action: 'write', recordName: 'jif/f', data: { n: 1 }, version: 1 }))
    await postJif(peer, as(BOB, { topic: 'record', action: 'write', recordName: 'jif/f', data: { n: 9 }, version: 9 }))
    return postJif(peer, as(BOB, { topic: 'record', action: 'write', recordName: 'jif/f', data: { n: 2 }, version: 2 }))
  }))

  it('answers denials with the denied action', () => differential('jif denials', peers, (peer) => postJif(peer, as(BOB,
    { topic: 'record', action: 'read', recordName: 'denied/1' },
    { topic: 'record', action: 'head', recordName: 'denied/1' },
    { topic: 'record', action: 'write', recordName: 'denied/1', data: {} },
    { topic: 'record', action: 'write', recordName: 'readonly/1', data: {} },
    { topic: 'record', action: 'delete', recordName: 'readonly/1' },
    { topic: 'event', action: 'emit', eventName: 'denied/e', data: 1 },
    { topic: 'rpc', action: 'make', rpcName: 'denied/r', data: 1 },
  ))))

  it('answers RPCs answered, failed, rejected or unprovided by WebSocket providers', () => differential('jif rpc', peers, async (peer) => {
    const provider = await stockClient(peer, ADA)
    provider.rpc.provide('jif/add', (data: number[], response: { send: (v: unknown) => void }) => response.send(data[0] + data[1]))
    provider.rpc.provide('jif/error', (_data: unknown, response: { error: (e: string) => void }) => response.error('refused it'))
    provider.rpc.provide('jif/reject', (_data: unknown, response: { reject: () => void }) => response.reject())
    // Each provide is confirmed by a round trip before the HTTP request.
    await eventually(async () => expect(await provider.rpc.make('jif/add', [0, 0])).toBe(0))
    return await postJif(peer, as(BOB,
      { topic: 'rpc', action: 'make', rpcName: 'jif/add', data: [1, 2] },
      { topic: 'rpc', action: 'make', rpcName: 'jif/error', data: null },
      { topic: 'rpc', action: 'make', rpcName: 'jif/reject', data: null },
      { topic: 'rpc', action: 'make', rpcName: 'jif/nobody' },
    ))
  }))

  it('emits to WebSocket subscribers and answers presence queries', () => differential('jif events and presence', peers, async (peer) => {
    const listener = await WireClient.user(peer, ADA)
    listener.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['jif/news'], correlationId: '0' })
    await listener.next()
    const answer = await postJif(peer, as(BOB,
      { topic: 'event', action: 'emit', eventName: 'jif/news', data: { h: 1 } },
      { topic: 'presence', action: 'query' },
      { topic: 'presence', action: 'query', names: ['ada', 'bob'] },
    ))
    return { answer, heard: await listener.next(), rest: await listener.drain() }
  }))

  it('refuses bad credentials and malformed requests with deepstream\'s status and text', () => differential('jif refusals', peers, async (peer) => [
    await postJif(peer, as({ username: 'bob', password: 'wrong' }, { topic: 'event', action: 'emit', eventName: 'x' })),
    await postJif(peer, { authData: BOB, body: [] }),
    await postJif(peer, { authData: BOB }),
    await postJif(peer, as(BOB, { topic: 'event', action: 'emit' })),
    await postJif(peer, as(BOB, { topic: 'nope', action: 'emit', eventName: 'x' })),
    await postJif(peer, { authData: 'not an object', body: [{ topic: 'event', action: 'emit', eventName: 'x' }] }),
    await postJif(peer, { token: '', body: [{ topic: 'event', action: 'emit', eventName: 'x' }] }),
    await postJif(peer, as(BOB, { topic: 'event', action: 'emit', eventName: 'x' }, { topic: 'event', action: 'emit', eventName: 5 })),
    await postJif(peer, as(BOB, { topic: 'event', action: 'emit', eventName: '' })),
    await postJif(peer, as(BOB, { topic: 'rpc', action: 'make' })),
    await postJif(peer, as(BOB, { topic: 'event', action: 'emit', eventName: 'x', extra: 1 })),
    await postJif(peer, as(BOB, { topic: 'record', action: 'write', recordName: 'x', data: 5 })),
    await postJif(peer, as(BOB, { topic: 'record', action: 'write', recordName: 'x', data: {}, version: -2 })),
    await postJif(peer, as(BOB, 'not an item')),
  ]))
})

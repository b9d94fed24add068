/**
 * Differential: record listening (a provider is found, accepted, announced to subscribers with
 * SUBSCRIPTION_HAS_PROVIDER, removed), a rejecting listener, an invalid pattern, and records'
 * subscription edge cases (subscribe twice, read without create, unknown actions).
 */
import { describe, it } from 'vitest'
import { RECORD_ACTION as R, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { ADA, BOB, usePeers } from './peers.js'
import { differential, messagesOf, WireClient } from './wire.js'

const rec = messagesOf(TOPIC.RECORD)

describe('differential: record listening and subscription edges', () => {
  const peers = usePeers()

  it('tells record subscribers when an accepted provider comes and goes', () => differential('record listening', peers, async (peer) => {
    const provider = await WireClient.user(peer, ADA)
    const subscriber = await WireClient.user(peer, BOB)
    provider.send(rec(R.LISTEN, { name: 'prices/.*', correlationId: 'l1' }))
    const listening = await provider.next()
    subscriber.send(rec(R.SUBSCRIBECREATEANDREAD, { names: ['prices/eur'], correlationId: '0' }))
    const subscribed = [await subscriber.next(), await subscriber.next()]
    const found = await provider.next()
    provider.send(rec(R.LISTEN_ACCEPT, { name: 'prices/.*', subscription: 'prices/eur' }))
    const hasProvider = await subscriber.next((m) => m.action === R.SUBSCRIPTION_HAS_PROVIDER)
    provider.send(rec(R.UNLISTEN, { name: 'prices/.*', correlationId: 'l2' }))
    const unlistened = await provider.next((m) => m.action === R.UNLISTEN)
    const noProvider = await subscriber.next((m) => m.action === R.SUBSCRIPTION_HAS_NO_PROVIDER)
    return { listening, subscribed, found, hasProvider, unlistened, noProvider, toProvider: await provider.drain(), toSubscriber: await subscriber.drain() }
  }))

  it('asks the next listener after a reject, and refuses an invalid pattern', () => differential('record listen reject and bad pattern', peers, async (peer) => {
    const provider = await WireClient.user(peer, ADA)
    const subscriber = await WireClient.user(peer, BOB)
    provider.send(rec(R.LISTEN, { name: 'quotes/.*', correlationId: 'l1' }))
    await provider.next()
    subscriber.send(rec(R.SUBSCRIBECREATEANDREAD, { names: ['quotes/a'], correlationId: '0' }))
    await subscriber.next()
    await subscriber.next()
    const found = await provider.next()
    provider.send(rec(R.LISTEN_REJECT, { name: 'quotes/.*', subscription: 'quotes/a' }))
    const afterReject = await provider.drain()
    provider.send(rec(R.LISTEN, { name: '([', correlationId: 'l2' }))
    return { found, afterReject, badPattern: await provider.next(), toSubscriber: await subscriber.drain() }
  }))

  it('answers a second subscription, a read without create, and an unknown action', () => differential('record subscription edges', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA)
    a.send(rec(R.SUBSCRIBECREATEANDREAD, { names: ['edge/1'], correlationId: '0' }))
    const first = [await a.next(), await a.next()]
    a.send(rec(R.SUBSCRIBECREATEANDREAD, { names: ['edge/1'], correlationId: '1' }))
    const second = [await a.next(), await a.next()]
    a.send(rec(R.SUBSCRIBEANDREAD, { names: ['edge/none'], correlationId: '2' }))
    const readOnly = [await a.next(), await a.next()]
    return { first, second, readOnly, rest: await a.drain() }
  }))

  it('refuses patches to hot-path records, and reads them', () => differential('record hot path', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA)
    a.send(rec(R.CREATEANDUPDATE, { name: 'hot/1', version: -1, data: '{"t":1}' }))
    a.send(rec(R.CREATEANDPATCH, { name: 'hot/1', version: -1, path: 't', data: '3', isWriteAck: true, correlationId: '3' }))
    const patch = await a.next()
    a.send(rec(R.READ, { name: 'hot/1' }))
    return { patch, read: await a.next(), rest: await a.drain() }
  }))

  it('acknowledges a hot-path write and sends it to subscribers', () => differential('hot path writes', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA)
    const b = await WireClient.user(peer, BOB)
    b.send(rec(R.SUBSCRIBECREATEANDREAD, { names: ['hot/2'], correlationId: '0' }))
    await b.next()
    await b.next()
    a.send(rec(R.CREATEANDUPDATE, { name: 'hot/2', version: -1, data: '{"t":1}', isWriteAck: true, correlationId: '1' }))
    return { ack: await a.next(), update: await b.next() }
  }))

  it('moves on when a listener does not answer in time', () => differential('listen response timeout notice', peers, async (peer) => {
    const provider = await WireClient.user(peer, ADA)
    const subscriber = await WireClient.user(peer, BOB)
    provider.send(rec(R.LISTEN, { name: 'slow/.*', correlationId: 'l1' }))
    await provider.next()
    subscriber.send(rec(R.SUBSCRIBECREATEANDREAD, { names: ['slow/1'], correlationId: '0' }))
    const found = await provider.next()
    // listen.responseTimeout is 300 ms in this config: what the silent provider hears within 1.5 s.
    const after = await provider.next(undefined, 1500).catch(() => 'nothing')
    return { found, after }
  }))
})

/**
 * Differential: events (subscribe, emit, unsubscribe, repeated and missing subscriptions, denials,
 * data rules, listening) and RPC (provide, accept, response, error, reject and reroute, no
 * provider, timeouts, denials), on the wire and through the stock client.
 */
import { describe, expect, it } from 'vitest'
import { eventually } from '../helpers.js'
import { EVENT_ACTION as E, RPC_ACTION as P, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { ADA, BOB, CAT, usePeers } from './peers.js'
import { differential, messagesOf, outcome, stockClient, WireClient, type WireMessage } from './wire.js'

const ev = messagesOf(TOPIC.EVENT)
const rpc = messagesOf(TOPIC.RPC)

/**
 * riptide hands requests to providers under a correlation id of its own (README, "What differs"),
 * so a provider's view is compared without the id; the requestor's view keeps its own id.
 */
function withoutServerId (message: WireMessage): WireMessage {
  const { correlationId, ...rest } = message
  return { ...rest, correlationId: correlationId === undefined ? undefined : '(server id)' } as WireMessage
}

describe('differential: events and rpc', () => {
  const peers = usePeers()

  it('acks subscriptions, delivers emits to others, refuses double and missing subscriptions', () => differential('event flow', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA)
    const b = await WireClient.user(peer, BOB)
    b.send(ev(E.SUBSCRIBE, { names: ['news'], correlationId: '0' }))
    const subscribed = await b.next()
    a.send(ev(E.SUBSCRIBE, { names: ['news'], correlationId: '0' }))
    await a.next()
    a.send(ev(E.EMIT, { name: 'news', data: '{"h":1}' }))
    const delivered = await b.next()
    b.send(ev(E.SUBSCRIBE, { names: ['news'], correlationId: '1' }))
    const twice = await b.next((m) => m.action !== E.SUBSCRIBE || m.correlationId === '1')
    b.send(ev(E.UNSUBSCRIBE, { names: ['news'], correlationId: '2' }))
    const unsubscribed = await b.next()
    b.send(ev(E.UNSUBSCRIBE, { names: ['news'], correlationId: '3' }))
    const notSubscribed = await b.next()
    a.send(ev(E.EMIT, { name: 'news', data: '{"h":2}' }))
    return { subscribed, delivered, twice, unsubscribed, notSubscribed, toA: await a.drain(), toB: await b.drain() }
  }))

  it('denies subscribing and emitting where the rules say no, and checks event data', () => differential('event denials', peers, async (peer) => {
    const a = await WireClient.user(peer, BOB)
    const seen = []
    for (const message of [
      ev(E.SUBSCRIBE, { names: ['denied/x'], correlationId: '0' }),
      ev(E.EMIT, { name: 'denied/x', data: '1' }),
      ev(E.EMIT, { name: 'small/x', data: '{"n":50}' }),
      ev(E.LISTEN, { name: 'denied/.*' }),
    ]) {
      a.send(message)
      seen.push(await a.next())
    }
    a.send(ev(E.EMIT, { name: 'small/x', data: '{"n":5}' }))
    return { seen, rest: await a.drain() }
  }))

  it('asks a listener when a matching subscription appears and goes', () => differential('event listening', peers, async (peer) => {
    const provider = await WireClient.user(peer, ADA)
    const subscriber = await WireClient.user(peer, BOB)
    provider.send(ev(E.LISTEN, { name: 'feed/.*', correlationId: 'l1' }))
    const listening = await provider.next()
    subscriber.send(ev(E.SUBSCRIBE, { names: ['feed/1'], correlationId: '0' }))
    await subscriber.next()
    const found = await provider.next()
    provider.send(ev(E.LISTEN_ACCEPT, { name: 'feed/.*', subscription: 'feed/1' }))
    const afterAccept = await provider.drain() // the accept is handled before the unsubscribe is sent
    subscriber.send(ev(E.UNSUBSCRIBE, { names: ['feed/1'], correlationId: '1' }))
    await subscriber.next()
    const removed = await provider.next()
    provider.send(ev(E.UNLISTEN, { name: 'feed/.*', correlationId: 'l2' }))
    return { listening, found, afterAccept, removed, unlistened: await provider.next(), toSubscriber: await subscriber.drain() }
  }))

  it('routes a request to its provider and its answers back', () => differential('rpc flow', peers, async (peer) => {
    const provider = await WireClient.user(peer, ADA)
    const requestor = await WireClient.user(peer, BOB)
    provider.send(rpc(P.PROVIDE, { names: ['add', 'fail'], correlationId: '0' }))
    const provided = await provider.next()
    requestor.send(rpc(P.REQUEST, { name: 'add', correlationId: 'r1', data: '[1,2]' }))
    const request = await provider.next()
    provider.send(rpc(P.ACCEPT, { name: 'add', correlationId: request.correlationId }))
    provider.send(rpc(P.RESPONSE, { name: 'add', correlationId: request.correlationId, data: '3' }))
    const answered = [await requestor.next(), await requestor.next()]
    requestor.send(rpc(P.REQUEST, { name: 'fail', correlationId: 'r2', data: '{}' }))
    const second = await provider.next()
    provider.send(rpc(P.ACCEPT, { name: 'fail', correlationId: second.correlationId }))
    provider.send(rpc(P.REQUEST_ERROR, { name: 'fail', correlationId: second.correlationId, data: '"refused it"' }))
    const failed = [await requestor.next(), await requestor.next()]
    provider.send(rpc(P.UNPROVIDE, { names: ['add'], correlationId: '1' }))
    const unprovided = await provider.next()
    requestor.send(rpc(P.REQUEST, { name: 'add', correlationId: 'r3', data: '[1]' }))
    const nobody = await requestor.next()
    return { provided, request: withoutServerId(request), answered, failed, unprovided, nobody, toProvider: await provider.drain() }
  }))

  it('reroutes a rejected request, and times out a provider that never accepts or answers', () => differential('rpc reject and timeouts', peers, async (peer) => {
    const rejecter = await WireClient.user(peer, ADA)
    const requestor = await WireClient.user(peer, BOB)
    rejecter.send(rpc(P.PROVIDE, { names: ['busy', 'slow', 'mute'], correlationId: '0' }))
    await rejecter.next()
    requestor.send(rpc(P.REQUEST, { name: 'busy', correlationId: 'r1', data: '1' }))
    const offered = await rejecter.next()
    rejecter.send(rpc(P.REJECT, { name: 'busy', correlationId: offered.correlationId }))
    const rejected = await requestor.next()
    requestor.send(rpc(P.REQUEST, { name: 'mute', correlationId: 'r2', data: '1' }))
    await rejecter.next()
    const noAccept = await requestor.next(undefined, 3000)
    requestor.send(rpc(P.REQUEST, { name: 'slow', correlationId: 'r3', data: '1' }))
    const slow = await rejecter.next()
    rejecter.send(rpc(P.ACCEPT, { name: 'slow', correlationId: slow.correlationId }))
    const noResponse = [await requestor.next(), await requestor.next(undefined, 3000)]
    return { rejected, noAccept, noResponse, toRequestor: await requestor.drain() }
  }))

  it('answers a second provide, an unprovide of nothing, a reply under an unknown id and a second accept', () => differential('rpc provider edges', peers, async (peer) => {
    const provider = await WireClient.user(peer, ADA)
    const requestor = await WireClient.user(peer, BOB)
    provider.send(rpc(P.PROVIDE, { names: ['edge'], correlationId: '0' }))
    await provider.next()
    provider.send(rpc(P.PROVIDE, { names: ['edge'], correlationId: '1' }))
    const twice = await provider.drain()
    provider.send(rpc(P.UNPROVIDE, { names: ['never'], correlationId: '2' }))
    const nothing = await provider.drain()
    provider.send(rpc(P.RESPONSE, { name: 'edge', correlationId: 'no-such-id', data: '1' }))
    const unknown = await provider.drain()
    requestor.send(rpc(P.REQUEST, { name: 'edge', correlationId: 'r1', data: '1' }))
    const request = await provider.next()
    provider.send(rpc(P.ACCEPT, { name: 'edge', correlationId: request.correlationId }))
    provider.send(rpc(P.ACCEPT, { name: 'edge', correlationId: request.correlationId }))
    const secondAccept = (await provider.drain()).map(withoutServerId)
    provider.send(rpc(P.RESPONSE, { name: 'edge', correlationId: request.correlationId, data: '2' }))
    const answered = [await requestor.next(), await requestor.next()]
    return { twice, nothing, unknown, secondAccept, answered, rest: await provider.drain() }
  }))

  it('asks the next event listener after a reject', () => differential('event listen reject', peers, async (peer) => {
    const provider = await WireClient.user(peer, ADA)
    const subscriber = await WireClient.user(peer, BOB)
    provider.send(ev(E.LISTEN, { name: 'ticks/.*', correlationId: 'l1' }))
    await provider.next()
    subscriber.send(ev(E.SUBSCRIBE, { names: ['ticks/a'], correlationId: '0' }))
    await subscriber.next()
    const found = await provider.next()
    provider.send(ev(E.LISTEN_REJECT, { name: 'ticks/.*', subscription: 'ticks/a' }))
    const afterReject = await provider.drain()
    return { found, afterReject }
  }))

  it('answers actions it does not know', () => differential('unknown actions are answered', peers, async (peer) => {
    const client = await WireClient.user(peer, ADA)
    const answers = []
    for (const topic of [TOPIC.EVENT, TOPIC.RPC, TOPIC.RECORD, TOPIC.PRESENCE]) {
      client.send({ topic, action: 99, name: 'x' })
      answers.push(await client.drain())
    }
    return answers
  }))

  it('denies providing and requesting where the rules say no', () => differential('rpc denials', peers, async (peer) => {
    const a = await WireClient.user(peer, CAT)
    a.send(rpc(P.PROVIDE, { names: ['denied/p'], correlationId: '0' }))
    const provide = await a.next()
    a.send(rpc(P.REQUEST, { name: 'denied/p', correlationId: 'r1', data: '1' }))
    return { provide, request: await a.next(), rest: await a.drain() }
  }))

  it('spreads concurrent requests over two providers of one user, rerouting the rejected ones', () => differential('rpc two providers under load', peers, async (peer) => {
    const [accepter, rejecter, caller] = await Promise.all([stockClient(peer, ADA), stockClient(peer, ADA), stockClient(peer, BOB)])
    const asked = { accepter: 0, rejecter: 0 }
    accepter.rpc.provide('job', (data: number, response: { send: (v: unknown) => void }) => { asked.accepter++; response.send(data) })
    rejecter.rpc.provide('job', (_data: unknown, response: { reject: () => void }) => { asked.rejecter++; response.reject() })
    // Both provides are in place once the rejecter has been asked and the request still answered.
    await eventually(async () => {
      expect(await caller.rpc.make('job', -1)).toBe(-1)
      expect(asked.rejecter).toBeGreaterThan(0)
    }, 10_000)
    asked.accepter = 0
    asked.rejecter = 0
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(caller.rpc.make('job', i))))
    return { answers, everyRequestReachedTheAccepter: asked.accepter === 20, theRejecterWasAsked: asked.rejecter > 0 }
  }))

  it('gives the stock client the same events and RPC results', () => differential('stock client events and rpc', peers, async (peer) => {
    const errors: unknown[] = []
    const a = await stockClient(peer, ADA, errors)
    const b = await stockClient(peer, BOB, errors)
    const heard: unknown[] = []
    b.event.subscribe('chat', (data: unknown) => heard.push(data))
    a.rpc.provide('double', (data: number, response: { send: (v: unknown) => void }) => response.send(data * 2))
    a.rpc.provide('nope', (_data: unknown, response: { error: (e: string) => void }) => response.error('refused it'))
    a.rpc.provide('reject', (_data: unknown, response: { reject: () => void }) => response.reject())
    // The provider confirms its provides by a round trip before the requestor calls.
    await eventually(async () => expect(await a.rpc.make('double', 0)).toBe(0))
    const doubled = await outcome(b.rpc.make('double', 21))
    a.event.emit('chat', { text: 'hi' })
    b.event.emit('denied/chat', 1)
    await eventually(() => expect(heard).toHaveLength(1))
    return {
      doubled,
      refused: await outcome(b.rpc.make('nope', null)),
      rejected: await outcome(b.rpc.make('reject', null)),
      missing: await outcome(b.rpc.make('nobody', null)),
      denied: await outcome(b.rpc.make('denied/x', null)),
      heard,
      errors,
    }
  }))
})

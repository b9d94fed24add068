/**
 * Differential: the ws-json endpoint (`/deepstream-json`, one JSON text frame per message): login,
 * records, events and RPC, compared frame for frame.
 */
import { describe, it } from 'vitest'
import { EVENT_ACTION as E, RECORD_ACTION as R, RPC_ACTION as P, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { ADA, BOB, usePeers } from './peers.js'
import { differential, WireClient } from './wire.js'


describe('differential: ws-json endpoint', () => {
  const peers = usePeers()

  it('logs in and refuses a bad password', () => differential('json login', peers, async (peer) => [
    (await WireClient.login(peer, ADA, true)).answer,
    (await WireClient.login(peer, { username: 'ada', password: 'no' }, true)).answer,
  ]))

  it('serves records, events and RPC in JSON frames', () => differential('json flows', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA, true)
    const b = await WireClient.user(peer, BOB, true)
    a.send({ topic: TOPIC.RECORD, action: R.SUBSCRIBECREATEANDREAD, names: ['json/1'], correlationId: '0' })
    const opened = [await a.next(), await a.next()]
    b.send({ topic: TOPIC.RECORD, action: R.SUBSCRIBECREATEANDREAD, names: ['json/1'], correlationId: '0' })
    await b.next()
    await b.next()
    a.send({ topic: TOPIC.RECORD, action: R.UPDATE, name: 'json/1', version: 1, data: '{"x":1}', isWriteAck: true, correlationId: '1' })
    const ack = await a.next()
    const update = await b.next()
    b.send({ topic: TOPIC.EVENT, action: E.SUBSCRIBE, names: ['json/e'], correlationId: '1' })
    const subscribed = await b.next()
    a.send({ topic: TOPIC.EVENT, action: E.EMIT, name: 'json/e', data: '[1,2]' })
    const event = await b.next()
    b.send({ topic: TOPIC.RPC, action: P.PROVIDE, names: ['json/r'], correlationId: '2' })
    await b.next()
    a.send({ topic: TOPIC.RPC, action: P.REQUEST, name: 'json/r', correlationId: 'r1', data: '"q"' })
    const request = await b.next()
    b.send({ topic: TOPIC.RPC, action: P.RESPONSE, name: 'json/r', correlationId: request.correlationId, data: '"a"' })
    const response = await a.next()
    // Acks are compared without isAck here: the scenario below measures that difference alone.
    return withoutIsAck({ opened, ack, update, subscribed, event, request: { ...request, correlationId: '(server id)' }, response })
  }))

  it('marks acks as acks', () => differential('json acks carry isAck', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA, true)
    a.send({ topic: TOPIC.EVENT, action: E.SUBSCRIBE, names: ['json/acked'], correlationId: '7' })
    return a.next()
  }))
})

function withoutIsAck (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIsAck)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'isAck').map(([key, item]) => [key, withoutIsAck(item)]))
}

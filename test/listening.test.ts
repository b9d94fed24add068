import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CLIENTS, closeClients, connect, connectWith, eventually, KINDS, oneWorker, RawClient, startTestServer } from './helpers.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'
import { EVENT_ACTION, RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

interface ListenResponse { accept (): void, reject (): void, onStop (cb: (name: string) => void): void }

describe.each(KINDS)('listening over %s', (kind) => {
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({ listen: { responseTimeout: 200 } }, kind) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it.each(CLIENTS)('asks a matching provider on first subscription, tells subscribers, and stops on the last unsubscribe (%s client)', async (clientKind) => {
    // One worker: the round trips below then order what the server did (workers.test.ts covers several).
    const place = oneWorker(server)
    const provider = await connectWith(clientKind, place)
    const found: string[] = []
    const stopped: string[] = []
    provider.record.listen(`^${clientKind}/prices/.*`, (name: string, response: ListenResponse) => {
      found.push(name)
      response.onStop((stoppedName) => stopped.push(stoppedName))
      response.accept()
    })
    // A pattern registered after the subscription is matched against it then: no wait needed.
    const viewer = await connectWith(clientKind, place, {}, { subscriptionInterval: 0 })
    const record = viewer.record.getRecord(`${clientKind}/prices/eur`)
    await record.whenReady()
    await eventually(() => expect(found).toEqual([`${clientKind}/prices/eur`]))
    await eventually(() => expect(record.hasProvider).toBe(true))
    const other = await connectWith(clientKind, place)
    const second = other.record.getRecord(`${clientKind}/prices/eur`)
    await second.whenReady()
    await eventually(() => expect(second.hasProvider).toBe(true))
    expect(found).toEqual([`${clientKind}/prices/eur`])
    record.discard()
    // The unsubscribe went before this head and is handled; what the server sent the provider
    // before answering the provider's own head has reached it.
    await viewer.record.head(`${clientKind}/prices/eur`)
    await provider.record.head(`${clientKind}/prices/eur`)
    expect(stopped).toEqual([])
    second.discard()
    await eventually(() => expect(stopped).toEqual([`${clientKind}/prices/eur`]))
  })

  it.each(CLIENTS)('tries the next provider after a reject, and hands over when a provider disconnects (%s client)', async (clientKind) => {
    const connect = (place: TestServer): ReturnType<typeof connectWith> => connectWith(clientKind, place)
    const rejecter = await connect(server)
    const acceptor = await connect(server)
    let rejectedOnce = 0
    rejecter.event.listen('^chat/.*', (_name: string, response: ListenResponse) => { rejectedOnce++; response.reject() })
    const accepted: string[] = []
    acceptor.event.listen('^chat/.*', (name: string, response: ListenResponse) => { accepted.push(name); response.accept() })
    const subscriber = await connect(server)
    subscriber.event.subscribe('chat/room1', () => {})
    await eventually(() => expect(accepted).toEqual(['chat/room1']))
    const backup = await connect(server)
    const handedOver: string[] = []
    // Asked when the acceptor leaves, or when its pattern arrives if that is later.
    backup.event.listen('^chat/.*', (name: string, response: ListenResponse) => { handedOver.push(name); response.accept() })
    acceptor.close()
    rejecter.close()
    await eventually(() => expect(handedOver).toEqual(['chat/room1']))
  })

  it('asks a provider that listens while another is being asked, when that one refuses', async () => {
    const place = oneWorker(server)
    const first = await RawClient.login(place)
    first.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.LISTEN, name: '^late/.*', correlationId: 'l1' })
    await first.next((m) => m.isAck === true)
    const subscriber = await RawClient.login(place)
    subscriber.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['late/one'], correlationId: 's' })
    // The first provider is being asked, and keeps the server waiting...
    await first.next((m) => m.action === EVENT_ACTION.SUBSCRIPTION_FOR_PATTERN_FOUND)
    // ...while a second one starts listening (its ack proves the server has its pattern)...
    const second = await RawClient.login(place)
    second.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.LISTEN, name: '^late/.*', correlationId: 'l2' })
    await second.next((m) => m.isAck === true)
    // ...then the first refuses: the second is asked.
    first.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.LISTEN_REJECT, name: '^late/.*', subscription: 'late/one' })
    expect(await second.next((m) => m.action === EVENT_ACTION.SUBSCRIPTION_FOR_PATTERN_FOUND)).toMatchObject({ name: '^late/.*', subscription: 'late/one' })
    for (const raw of [first, subscriber, second]) raw.close()
  })

  it('refuses a pattern that could backtrack without end, and keeps serving', async () => {
    const raw = await RawClient.login(server)
    for (const pattern of ['(a+)+$', '(a|aa)*$', '(x*)*y', '(.+)\\1']) {
      raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.LISTEN, name: pattern })
      expect(await raw.next((m) => m.topic === TOPIC.EVENT)).toMatchObject({ action: EVENT_ACTION.INVALID_LISTEN_REGEX, name: pattern })
    }
    const subscriber = await connect(server)
    subscriber.event.subscribe(`${'a'.repeat(5000)}!`, () => {})
    // The worker still answers at once.
    expect(await subscriber.record.has('anything')).toBe(false)
    raw.close()
  })

  it('refuses an invalid pattern', async () => {
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.LISTEN, name: '([unclosed' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.INVALID_LISTEN_REGEX, name: '([unclosed' })
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.LISTEN, name: 'ok/.*' })
    expect(await raw.next((m) => m.topic === TOPIC.EVENT)).toMatchObject({ action: EVENT_ACTION.LISTEN, name: 'ok/.*', isAck: true })
    raw.close()
  })
})

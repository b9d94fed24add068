import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CLIENTS, closeClients, connectWith, eventually, KINDS, RawClient, startTestServer } from './helpers.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'

// Each server kind, with @deepstream/client and with riptide/client's DeepstreamClient.
describe.each(KINDS.flatMap((kind) => CLIENTS.map((client) => [kind, client] as const)))('events over %s, %s client', (kind, clientKind) => {
  const connect = (place: TestServer): ReturnType<typeof connectWith> => connectWith(clientKind, place)
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({}, kind) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('delivers an emit to subscribers and not back to the sender', async () => {
    const a = await connect(server)
    const b = await connect(server)
    const gotA: unknown[] = []
    const gotB: unknown[] = []
    a.event.subscribe('news', (data: unknown) => gotA.push(data))
    b.event.subscribe('news', (data: unknown) => gotB.push(data))
    // Both subscriptions are live once each client hears the other.
    await eventually(() => {
      a.event.emit('news', 'a-warm')
      b.event.emit('news', 'b-warm')
      expect(gotB).toContain('a-warm')
      expect(gotA).toContain('b-warm')
    })
    a.event.emit('news', { headline: 'hi' })
    await eventually(() => expect(gotB).toContainEqual({ headline: 'hi' }))
    // b answers after it heard 'hi': a server echo of 'hi' to a would have reached a before it.
    b.event.emit('news', 'b-last')
    await eventually(() => expect(gotA).toContain('b-last'))
    // The client fires its own listeners locally at emit time, once; the server does not echo.
    expect(gotA.filter((data) => typeof data === 'object')).toEqual([{ headline: 'hi' }])
  })

  it('stops delivering after unsubscribe', async () => {
    const a = await connect(server)
    const b = await RawClient.login(server)
    const subscribe = async (name: string, action: number, correlationId: string): Promise<void> => {
      b.send({ topic: TOPIC.EVENT, action, names: [name], correlationId })
      await b.next((m) => m.correlationId === correlationId && m.isAck === true)
    }
    await subscribe('ticker', EVENT_ACTION.SUBSCRIBE, 'sub')
    await subscribe('ticker/end', EVENT_ACTION.SUBSCRIBE, 'sub-end')
    a.event.emit('ticker', 1)
    expect(await b.next((m) => m.name === 'ticker')).toMatchObject({ action: EVENT_ACTION.EMIT, data: '1' })
    await subscribe('ticker', EVENT_ACTION.UNSUBSCRIBE, 'unsub')
    a.event.emit('ticker', 2)
    // One sender's emits reach a worker in order: once 'ticker/end' is here, 'ticker' 2 would have been.
    a.event.emit('ticker/end', 3)
    await b.next((m) => m.name === 'ticker/end')
    expect(b.received.filter((m) => m.name === 'ticker')).toEqual([])
    b.close()
  })
})

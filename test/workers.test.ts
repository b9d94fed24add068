/**
 * Two connection workers, with every client placed on a chosen worker
 * through that worker's own port, so each cross-worker path is taken on
 * purpose rather than by the kernel's balancing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DeepstreamClient } from '@deepstream/client'
import { CLIENTS, closeClients, connect, connectWith, DEFAULT_KIND, eventually, RawClient, startTestServer, workerPort, type TestServer } from './helpers.js'
import { EVENT_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import type { Message } from '../src/index.js'

describe.each(CLIENTS)('two workers with the %s client', (clientKind) => {
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({}, DEFAULT_KIND, process.cwd(), 2) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  const on = (index: number, auth: Record<string, unknown> = {}): Promise<DeepstreamClient> => connectWith(clientKind, workerPort(server, index), auth)

  it('counts connections per worker', async () => {
    const before = [server.supervisor?.connections(0), server.supervisor?.connections(1)]
    await on(0)
    await on(1)
    await on(1)
    await eventually(() => expect([server.supervisor?.connections(0), server.supervisor?.connections(1)]).toEqual([(before[0] ?? 0) + 1, (before[1] ?? 0) + 2]))
  })

  it('delivers events to subscribers on the other worker, once each', async () => {
    const publisher = await on(0)
    const here = await on(0)
    const there = await on(1)
    const got: string[] = []
    here.event.subscribe('news', (data: unknown) => got.push(`here:${String(data)}`))
    there.event.subscribe('news', (data: unknown) => got.push(`there:${String(data)}`))
    // Both subscriptions are live once each subscriber has heard a warm-up emit.
    await eventually(() => {
      publisher.event.emit('news', 'warm')
      expect(got).toContain('here:warm')
      expect(got).toContain('there:warm')
    })
    publisher.event.emit('news', 'a')
    publisher.event.emit('news', 'end')
    // One publisher's emits arrive in order: once both have 'end', every copy of 'a' has arrived.
    await eventually(() => expect(got.filter((entry) => entry.endsWith(':end')).sort()).toEqual(['here:end', 'there:end']))
    expect(got.filter((entry) => entry.endsWith(':a')).sort()).toEqual(['here:a', 'there:a'])
  })

  it('decides record versions once across workers and syncs updates', async () => {
    const a = await on(0)
    const b = await on(1)
    const ra = a.record.getRecord('shared/doc')
    await ra.whenReady()
    const rb = b.record.getRecord('shared/doc')
    await rb.whenReady()
    await ra.setWithAck({ by: 'a' })
    await eventually(() => expect(rb.get()).toEqual({ by: 'a' }))
    const raw0 = await RawClient.login(workerPort(server, 0))
    const raw1 = await RawClient.login(workerPort(server, 1))
    for (let round = 0; round < 10; round++) {
      const version = 2 + round
      const claim = (raw: RawClient, who: string): Promise<Message> => {
        const correlationId = `${who}${round}`
        raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: 'shared/doc', version, data: JSON.stringify({ who }), isWriteAck: true, correlationId })
        return raw.next((m) => m.correlationId === correlationId)
      }
      const replies = await Promise.all([claim(raw0, 'a'), claim(raw1, 'b')])
      expect(replies.map((m) => m.action).sort()).toEqual([RECORD_ACTION.VERSION_EXISTS, RECORD_ACTION.WRITE_ACKNOWLEDGEMENT].sort())
    }
    await eventually(() => expect(rb.version).toBe(11))
    raw0.close()
    raw1.close()
  })

  it('hands a subscriber a record\'s updates in version order while writers on both workers take turns', async () => {
    const writers = [await on(0), await on(1)]
    await writers[0].record.setDataWithAck('turns/doc', { turn: 0 })
    const subscriber = await RawClient.login(workerPort(server, 1))
    subscriber.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBEANDREAD, names: ['turns/doc'], correlationId: 's' })
    await subscriber.next((m) => m.action === RECORD_ACTION.READ_RESPONSE)
    // Each write is acknowledged after its update went out; the next one comes from the other worker.
    for (let turn = 1; turn <= 30; turn++) await writers[turn % 2].record.setDataWithAck('turns/doc', { turn })
    await subscriber.next((m) => m.action === RECORD_ACTION.UPDATE && m.version === 31)
    const versions = subscriber.received.filter((m) => m.action === RECORD_ACTION.UPDATE).map((m) => m.version)
    expect(versions).toEqual(Array.from({ length: 29 }, (_, i) => i + 2))
    subscriber.close()
  })

  // A write is acknowledged once its update has been written to the record's other subscribers, on
  // either worker: a request the reader sends after the ack is answered after the update reached it.
  // As the ack arrives, the update is in the reader's socket too; whether the client process reads
  // that socket first is up to its event loop (deepstream leaves 6 to 10 rounds in 100 stale in
  // bench:ack-order; riptide left 19 or 20 in 20 before the ack waited, and 0 to 1 since, 5 once in a
  // fresh-clone CI run), so that is bounded, to fewer than half, rather than exact.
  it.each([[0, 0], [0, 1], [1, 0]])('acknowledges a write on worker %i after its update went to a subscriber on worker %i', async (writerWorker, readerWorker) => {
    const writer = await on(writerWorker)
    const reader = await on(readerWorker)
    const stale = { atAck: 0, afterRoundTrip: 0 }
    for (let round = 0; round < 20; round++) {
      const name = `ordered/${writerWorker}${readerWorker}/${round}`
      const mine = writer.record.getRecord(name)
      const theirs = reader.record.getRecord(name)
      // Both subscriptions are live once each record has had its read response.
      await Promise.all([mine.whenReady(), theirs.whenReady()])
      await mine.setWithAck({ round })
      if ((theirs.get() as { round?: number }).round !== round) stale.atAck++
      await reader.record.has('ordered/probe')
      if ((theirs.get() as { round?: number }).round !== round) stale.afterRoundTrip++
      mine.discard()
      theirs.discard()
    }
    expect(stale.afterRoundTrip).toBe(0)
    expect(stale.atAck).toBeLessThan(10)
  })

  it('routes an rpc to a provider on the other worker, and reroutes a rejection across workers', async () => {
    const requestor = await on(0)
    const local = await on(0)
    const remote = await on(1)
    local.rpc.provide('add', (_data: unknown, response: { reject: () => void }) => response.reject())
    remote.rpc.provide('add', (data: { a: number, b: number }, response: { send: (v: unknown) => void }) => response.send(data.a + data.b))
    // Both providers are registered once a request gets past the local one's rejection.
    await eventually(async () => expect(await requestor.rpc.make('add', { a: 0, b: 1 })).toBe(1))
    for (let i = 0; i < 5; i++) expect(await requestor.rpc.make('add', { a: i, b: 1 })).toBe(i + 1)
    remote.rpc.unprovide('add')
    // Then only the rejecting one is left.
    await eventually(async () => expect(await requestor.rpc.make('add', { a: 1, b: 1 }).catch((error: unknown) => error)).toBe('NO_RPC_PROVIDER'))
  })

  it('counts a user with sockets on both workers online once, and announces join and leave everywhere', async () => {
    const watcher = await on(1)
    const events: string[] = []
    watcher.presence.subscribe((user: string, online: boolean) => events.push(`${user}:${online ? 'in' : 'out'}`))
    // A socket's messages are handled in order: once this answer is back, the subscription is live.
    await watcher.presence.getAll()
    const first = await on(0, { username: 'grace' })
    const second = await on(1, { username: 'grace' })
    await eventually(() => expect(events).toEqual(['grace:in']))
    expect(await watcher.presence.getAll()).toEqual(['grace'])
    const openOnFirst = server.supervisor?.connections(0) ?? 0
    first.close()
    await eventually(() => expect(server.supervisor?.connections(0)).toBe(openOnFirst - 1))
    // A marker user in and out on worker 0 after grace's first socket left: worker 0's notices reach
    // worker 1 in order, so a wrong 'grace:out' would arrive before 'marker:out'.
    const marker = await on(0, { username: 'marker' })
    await eventually(() => expect(events).toContain('marker:in'))
    marker.close()
    await eventually(() => expect(events).toContain('marker:out'))
    expect(events).toEqual(['grace:in', 'marker:in', 'marker:out'])
    second.close()
    await eventually(() => expect(events).toEqual(['grace:in', 'marker:in', 'marker:out', 'grace:out']))
  })

  it('asks exactly one listener among workers, and tells it when the last subscriber on another worker leaves', async () => {
    const providers = [await on(0), await on(1)]
    const found: string[] = []
    const removed: string[] = []
    providers.forEach((provider, index) => {
      provider.event.listen('^weather/.*', (name: string, response: { accept: () => void, onStop: (cb: () => void) => void }) => {
        found.push(`${index}:${name}`)
        response.accept()
        response.onStop(() => removed.push(`${index}:${name}`))
      })
    })
    const subscriber = await on(1)
    const other = await on(0)
    subscriber.event.subscribe('weather/berlin', () => {})
    other.event.subscribe('weather/berlin', () => {})
    await eventually(() => expect(found).toHaveLength(1))
    subscriber.event.unsubscribe('weather/berlin')
    other.event.unsubscribe('weather/berlin')
    await eventually(() => expect(removed).toHaveLength(1))
    // Each worker handled its subscribe before its unsubscribe, and the provider was told to stop only
    // after both: any second ask would have come before this point.
    expect(found).toHaveLength(1)
    expect(removed).toEqual(found)
  })
})

describe('a worker that dies', () => {
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({}, DEFAULT_KIND, process.cwd(), 2) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('is replaced; its clients reconnect, clients elsewhere see no break, and its presence, providers and listeners are gone', async () => {
    const supervisor = server.supervisor
    if (supervisor === null) throw new Error('needs worker threads')
    // On worker 0: a user, an rpc provider and a listener, on raw sockets (no reconnection).
    const user = await RawClient.login(workerPort(server, 0), { username: 'doomed' })
    const provider = await RawClient.login(workerPort(server, 0))
    provider.send({ topic: TOPIC.RPC, action: RPC_ACTION.PROVIDE, names: ['echo'], correlationId: 'p' })
    const listener = await RawClient.login(workerPort(server, 0))
    listener.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.LISTEN, name: '^stock/.*', correlationId: 'l' })
    // A stock client on worker 0 through the shared port (placed by counting), which must reconnect by itself.
    const before = supervisor.connections(0)
    let survivor: DeepstreamClient | null = null
    for (let attempt = 0; attempt < 40 && survivor === null; attempt++) {
      // The worker counts a connection when it opens, before the login that connect waits for.
      const client = await connect(server, { username: 'phoenix' }, { maxReconnectAttempts: 50, reconnectIntervalIncrement: 50, maxReconnectInterval: 200 })
      if (supervisor.connections(0) > before) survivor = client
      else client.close()
    }
    if (survivor === null) throw new Error('the kernel never placed a connection on worker 0')
    // On worker 1: a watcher, a subscriber of the listened name, and a steady event stream.
    const watcher = await connect(workerPort(server, 1))
    const presence: string[] = []
    watcher.presence.subscribe((name: string, online: boolean) => presence.push(`${name}:${online ? 'in' : 'out'}`))
    const states: string[] = []
    watcher.on('connectionStateChanged', (state: string) => states.push(state))
    const subscriber = await RawClient.login(workerPort(server, 1))
    subscriber.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['stock/acme'], correlationId: 's' })
    await listener.next((m) => m.action === EVENT_ACTION.SUBSCRIPTION_FOR_PATTERN_FOUND)
    // A steady event stream between two clients of worker 1, live before the crash.
    let delivered = 0
    const sink = await connect(workerPort(server, 1))
    sink.event.subscribe('tick', () => { delivered++ })
    const ticker = setInterval(() => watcher.event.emit('tick', 1), 5)
    try {
      await eventually(() => expect(delivered).toBeGreaterThan(0))
      expect(await watcher.presence.getAll(['doomed'])).toEqual({ doomed: true })

      await supervisor.crashWorker(0)
      // ...and still flowing after it.
      const atCrash = delivered
      await eventually(() => expect(delivered).toBeGreaterThan(atCrash + 10))
    } finally {
      clearInterval(ticker)
    }

    expect(await user.closed()).toBeGreaterThan(0)
    await provider.closed()
    await eventually(() => expect(presence).toContain('doomed:out'))
    expect(await watcher.presence.getAll(['doomed'])).toEqual({ doomed: false })
    await expect(watcher.rpc.make('echo', 1)).rejects.toBe('NO_RPC_PROVIDER')
    // The listener is gone, so a new one is asked for the still-subscribed name.
    const heir = await RawClient.login(workerPort(server, 1))
    heir.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.LISTEN, name: '^stock/.*', correlationId: 'l2' })
    expect(await heir.next((m) => m.action === EVENT_ACTION.SUBSCRIPTION_FOR_PATTERN_FOUND)).toMatchObject({ subscription: 'stock/acme' })
    // Clients on worker 1 never left OPEN, and the survivor reconnected through the shared port.
    expect(states).toEqual([])
    await eventually(() => expect(survivor?.getConnectionState()).toBe('OPEN'), 10_000)
    expect(await survivor.record.has('anything')).toBe(false)
    // The replacement serves on worker 0's own port again.
    const fresh = await connect(workerPort(server, 0))
    expect(await fresh.record.has('anything')).toBe(false)
    for (const raw of [user, provider, listener, subscriber, heir]) raw.close()
  })
})

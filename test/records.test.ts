import { resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CLIENTS, closeClients, connect, connectWith, eventually, KINDS, makeTempDir, RawClient, removeTempDirs, startTestServer } from './helpers.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'
import { RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { SerialQueues } from '../src/native-free-core/records/record-store.js'

const SETUPS = [
  ...KINDS.map((kind) => ({ kind, records: 'memory cache, memory storage', config: () => ({ storage: { type: 'memory' } }) })),
  { kind: KINDS[0], records: 'lmdb cache', config: () => ({ cache: { type: 'lmdb', options: { path: makeTempDir() } }, storage: { type: 'none' } }) },
]

describe.each(SETUPS)('records over $kind with $records', ({ kind, config }) => {
  let server: TestServer
  beforeAll(async () => { server = await startTestServer(config(), kind) })
  afterEach(() => closeClients())
  afterAll(async () => {
    await server.close()
    removeTempDirs()
  })

  describe.each(CLIENTS)('with the %s client', (client) => {
    /** The record names of one client's run, apart from the other's on the same server. */
    const n = (name: string): string => `${client}/${name}`
    /** Two clients, each holding record `name`, ready. */
    const twoHolding = async (name: string) => {
      const [a, b] = [await connectWith(client, server), await connectWith(client, server)]
      const [ra, rb] = [a.record.getRecord(n(name)), b.record.getRecord(n(name))]
      await Promise.all([ra.whenReady(), rb.whenReady()])
      return { a, ra, rb }
    }

    it('creates on first getRecord and syncs set, path set and erase to other subscribers', async () => {
      const a = await connectWith(client, server)
      const b = await connectWith(client, server)
      const ra = a.record.getRecord(n('user/1'))
      await ra.whenReady()
      expect(ra.version).toBe(0)
      expect(ra.get()).toEqual({})
      const rb = b.record.getRecord(n('user/1'))
      await rb.whenReady()
      ra.set({ name: 'Ada', tags: ['x'] })
      await eventually(() => expect(rb.get()).toEqual({ name: 'Ada', tags: ['x'] }))
      ra.set('address.city', 'Berlin')
      await eventually(() => expect(rb.get('address.city')).toBe('Berlin'))
      ra.erase('tags')
      await eventually(() => expect(rb.get()).toEqual({ name: 'Ada', address: { city: 'Berlin' } }))
      expect(rb.version).toBe(3)
      expect(await b.record.snapshot(n('user/1'))).toEqual({ name: 'Ada', address: { city: 'Berlin' } })
    })

    it('acknowledges writes, and reads head, has and snapshot', async () => {
      const a = await connectWith(client, server)
      const record = a.record.getRecord(n('acked'))
      await record.whenReady()
      await record.setWithAck({ n: 1 })
      await record.setWithAck('n', 2)
      expect(await a.record.head(n('acked'))).toBe(2)
      expect(await a.record.has(n('acked'))).toBe(true)
      expect(await a.record.has(n('never-made'))).toBe(false)
      expect(await a.record.head(n('never-made'))).toBe(-1)
      await expect(a.record.snapshot(n('never-made'))).rejects.toBe('RECORD_NOT_FOUND')
    })

    it('upserts with setData, never answering VERSION_EXISTS', async () => {
      const a = await connectWith(client, server)
      const b = await connectWith(client, server)
      const watched = b.record.getRecord(n('upsert'))
      await watched.whenReady()
      await Promise.all(Array.from({ length: 20 }, (_, i) => a.record.setDataWithAck(n('upsert'), { i })))
      await a.record.setDataWithAck(n('upsert'), 'extra.deep', true)
      expect(await a.record.head(n('upsert'))).toBe(21)
      await eventually(() => expect(watched.version).toBe(21))
    })

    it('decides a race between two clients once: one version sequence, same final data', async () => {
      const { a, ra, rb } = await twoHolding('race')
      // Both write version 1 at once. The loser gets VERSION_EXISTS and the client's
      // default merge (remote wins) adopts the winner; the client never acks the loser.
      ra.set({ winner: 'a' })
      rb.set({ winner: 'b' })
      await eventually(() => {
        expect(ra.get()).toEqual(rb.get())
        expect(ra.version).toBe(rb.version)
      })
      const stored = await a.record.snapshot(n('race'))
      expect(stored).toEqual(ra.get())
      expect(await a.record.head(n('race'))).toBe(1)
      expect(['a', 'b']).toContain((stored as { winner: string }).winner)
    })

    it('deletes: the deleter gets success, other subscribers get deleted, and a re-created record starts at 0', async () => {
      const { a, ra, rb } = await twoHolding('doomed')
      await ra.setWithAck({ x: 1 })
      let deleted = false
      rb.on('delete', () => { deleted = true })
      await ra.delete()
      await eventually(() => expect(deleted).toBe(true))
      expect(await a.record.head(n('doomed'))).toBe(-1)
      const again = a.record.getRecord(n('doomed'))
      await again.whenReady()
      expect(again.version).toBe(0)
    })

    it('keeps lists as arrays of names', async () => {
      const a = await connectWith(client, server)
      const b = await connectWith(client, server)
      const la = a.record.getList(n('todo'))
      const lb = b.record.getList(n('todo'))
      await Promise.all([la.whenReady(), lb.whenReady()])
      la.addEntry('item/1')
      la.addEntry('item/2')
      await eventually(() => expect(lb.getEntries()).toEqual(['item/1', 'item/2']))
      la.removeEntry('item/1')
      await eventually(() => expect(lb.getEntries()).toEqual(['item/2']))
    })
  })

  it('decides writes that queue behind a commit in order: each acked or refused alone, every version delivered once', async () => {
    const writer = await RawClient.login(server)
    const watcher = await RawClient.login(server)
    try {
      const name = 'queued-writes'
      watcher.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBECREATEANDREAD, names: [name], correlationId: 'w' })
      await watcher.next((m) => m.action === RECORD_ACTION.READ_RESPONSE)
      // Versions 1 to 30 in flight together, with a second version 5 that must lose alone.
      for (let version = 1; version <= 30; version++) {
        writer.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name, version, data: JSON.stringify({ version }), isWriteAck: true, correlationId: String(version) })
        if (version === 5) writer.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name, version: 5, data: '{"late":true}', isWriteAck: true, correlationId: 'late' })
      }
      const refused = await writer.next((m) => m.correlationId === 'late')
      expect(refused).toMatchObject({ action: RECORD_ACTION.VERSION_EXISTS, version: 5, data: '{"version":5}' })
      for (let version = 1; version <= 30; version++) {
        await writer.next((m) => m.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT && m.correlationId === String(version))
      }
      const seen: number[] = []
      for (let version = 1; version <= 30; version++) seen.push((await watcher.next((m) => m.action === RECORD_ACTION.UPDATE)).version ?? -1)
      expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
      writer.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name })
      expect(await writer.next((m) => m.action === RECORD_ACTION.HEAD_RESPONSE)).toMatchObject({ version: 30 })
    } finally {
      writer.close()
      watcher.close()
    }
  })

  it('reads a client\'s own write sent just before the read, acked or not', async () => {
    const raw = await RawClient.login(server)
    try {
      for (let i = 1; i <= 5; i++) {
        raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'own-writes', version: -1, data: JSON.stringify({ i }) })
        raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: 'own-writes' })
        expect(await raw.next((m) => m.action === RECORD_ACTION.READ_RESPONSE)).toMatchObject({ version: i, data: JSON.stringify({ i }) })
        raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name: 'own-writes' })
        expect(await raw.next((m) => m.action === RECORD_ACTION.HEAD_RESPONSE)).toMatchObject({ version: i })
      }
    } finally {
      raw.close()
    }
  })

  it('answers a stale version with VERSION_EXISTS carrying the current data', async () => {
    const a = await connect(server)
    const record = a.record.getRecord('stale')
    await record.whenReady()
    await record.setWithAck({ v: 'current' })
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: 'stale', version: 1, data: '{"v":"old"}', isWriteAck: true, correlationId: '7' })
    const reply = await raw.next((m) => m.topic === TOPIC.RECORD)
    expect(reply).toMatchObject({ action: RECORD_ACTION.VERSION_EXISTS, name: 'stale', version: 1, data: '{"v":"current"}', correlationId: '7', isWriteAck: true })
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: 'stale', version: 5, data: '{}' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.INVALID_VERSION, version: 1 })
    raw.close()
  })

  it('refuses paths that reach the prototype and keeps the record clean', async () => {
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDPATCH, name: 'proto', version: -1, path: '__proto__.polluted', data: 'true', isWriteAck: true, correlationId: '1' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.RECORD_UPDATE_ERROR, isWriteAck: true, correlationId: '1' })
    for (const segment of ['constructor', 'prototype']) {
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDPATCH, name: 'proto', version: -1, path: `a.${segment}.b`, data: '1' })
      expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.RECORD_UPDATE_ERROR })
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    raw.close()
  })

  it('stops sending updates to a socket that unsubscribed', async () => {
    const a = await connect(server)
    const b = await RawClient.login(server)
    const ask = async (action: number, names: string[], correlationId: string): Promise<void> => {
      b.send({ topic: TOPIC.RECORD, action, names, correlationId })
      await b.next((m) => m.correlationId === correlationId && m.isAck === true)
    }
    await a.record.setDataWithAck('discarded', { n: 0 })
    await a.record.setDataWithAck('discarded/end', { done: false })
    // SUBSCRIBEANDREAD is acknowledged at once; each name is subscribed before its read response.
    await ask(RECORD_ACTION.SUBSCRIBEANDREAD, ['discarded', 'discarded/end'], 'sub')
    for (const name of ['discarded', 'discarded/end']) await b.next((m) => m.action === RECORD_ACTION.READ_RESPONSE && m.name === name)
    await a.record.setDataWithAck('discarded', { n: 1 })
    expect(await b.next((m) => m.action === RECORD_ACTION.UPDATE && m.name === 'discarded')).toMatchObject({ data: '{"n":1}' })
    await ask(RECORD_ACTION.UNSUBSCRIBE, ['discarded'], 'unsub')
    await a.record.setDataWithAck('discarded', { n: 2 })
    // An update goes out before its write is acknowledged, and one worker's updates to another
    // keep their order: once the next record's update is here, one of 'discarded' would have been.
    await a.record.setDataWithAck('discarded/end', { done: true })
    await b.next((m) => m.action === RECORD_ACTION.UPDATE && m.name === 'discarded/end')
    expect(b.received.filter((m) => m.name === 'discarded' && m.action === RECORD_ACTION.UPDATE)).toEqual([])
    b.close()
  })

  it('re-subscribes in bulk with SUBSCRIBEANDHEAD', async () => {
    const a = await connect(server)
    const first = a.record.getRecord('bulk/1')
    await first.whenReady()
    await first.setWithAck({ a: 1 })
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBEANDHEAD, names: ['bulk/1', 'bulk/missing'], correlationId: '3' })
    expect(await raw.next((m) => m.action === RECORD_ACTION.HEAD_RESPONSE_BULK)).toMatchObject({ versions: { 'bulk/1': 1 } })
    expect(await raw.next((m) => m.isAck === true)).toMatchObject({ action: RECORD_ACTION.SUBSCRIBEANDHEAD, correlationId: '3' })
    expect(await raw.next((m) => m.action === RECORD_ACTION.HEAD_RESPONSE)).toMatchObject({ name: 'bulk/missing', version: -1 })
    await first.setWithAck({ a: 2 })
    expect(await raw.next((m) => m.action === RECORD_ACTION.UPDATE)).toMatchObject({ name: 'bulk/1', version: 2, data: '{"a":2}' })
    raw.close()
  })
})

describe.each(CLIENTS)('notify with the %s client', (client) => {
  // Two servers, each with its own cache, on one LMDB storage: a write through one leaves the
  // other's cache stale, which is what notify is for.
  let first: TestServer
  let second: TestServer
  beforeAll(async () => {
    const storage = { type: 'lmdb', options: { path: makeTempDir() } }
    first = await startTestServer({ storage })
    second = await startTestServer({ storage })
  })
  afterEach(() => closeClients())
  afterAll(async () => {
    await first.close()
    await second.close()
    removeTempDirs()
  })

  it('re-reads records from storage and pushes what it holds to subscribers', async () => {
    const a = await connectWith(client, first)
    const record = a.record.getRecord('notified')
    await record.whenReady()
    await record.setWithAck({ n: 1 })
    const b = await connectWith(client, second)
    await b.record.setDataWithAck('notified', { n: 2 })
    // Without notify the first server still serves its cache's copy.
    expect(await (await connectWith(client, first)).record.snapshot('notified')).toEqual({ n: 1 })
    expect(record.get()).toEqual({ n: 1 })
    await new Promise<void>((resolve, reject) => a.record.notify(['notified'], (error: unknown) => (error ? reject(error) : resolve())))
    await eventually(() => expect(record.get()).toEqual({ n: 2 }))
    expect(record.version).toBe(2)
    expect(await (await connectWith(client, first)).record.snapshot('notified')).toEqual({ n: 2 })
  })
})

describe('records that only storage holds', () => {
  afterEach(() => closeClients())
  afterAll(() => removeTempDirs())

  it('reads them back after a restart, and takes every kind of write to them', async () => {
    const storage = { type: 'lmdb', options: { path: makeTempDir() } }
    const before = await startTestServer({ storage })
    const writer = await connect(before)
    await writer.record.setDataWithAck('kept/set', { n: 1 })
    await writer.record.setDataWithAck('kept/path', { n: 1 })
    await writer.record.setDataWithAck('kept/record', { n: 1 })
    writer.close()
    await before.close()
    // A new server: its memory cache is empty, storage holds the records.
    const after = await startTestServer({ storage })
    try {
      const client = await connect(after)
      // A whole-record write first, with no read before it: it is decided by the version alone.
      await client.record.setDataWithAck('kept/set', { n: 2 })
      expect(await client.record.snapshot('kept/path')).toEqual({ n: 1 })
      await client.record.setDataWithAck('kept/path', 'n', 2)
      const record = client.record.getRecord('kept/record')
      await record.whenReady()
      expect(record.version).toBe(1)
      await record.setWithAck({ n: 2 })
      for (const name of ['kept/set', 'kept/path', 'kept/record']) {
        expect(await client.record.snapshot(name), name).toEqual({ n: 2 })
        expect(await client.record.head(name), name).toBe(2)
      }
    } finally {
      await after.close()
    }
  })
})

describe('a storage that does not answer', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ storage: { path: resolve('test/fixtures/plugins/map-storage.mjs') }, record: { storageRetrievalTimeout: 150 } })
  })
  afterAll(async () => { await server.close() })

  it('gets STORAGE_RETRIEVAL_TIMEOUT for each read in time, and reads that storage answers still work', async () => {
    const raw = await RawClient.login(server)
    try {
      const started = Date.now()
      for (const name of ['stall/1', 'stall/2']) raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name, correlationId: name })
      for (const name of ['stall/1', 'stall/2']) {
        expect(await raw.next((m) => m.name === name)).toMatchObject({ action: RECORD_ACTION.STORAGE_RETRIEVAL_TIMEOUT })
      }
      expect(Date.now() - started).toBeLessThan(2000)
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: 'stall/3', correlationId: 'again' })
      expect(await raw.next((m) => m.name === 'stall/3')).toMatchObject({ action: RECORD_ACTION.STORAGE_RETRIEVAL_TIMEOUT })
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name: 'answered' })
      expect(await raw.next((m) => m.name === 'answered')).toMatchObject({ action: RECORD_ACTION.HEAD_RESPONSE, version: -1 })
    } finally {
      raw.close()
    }
  })
})

describe('a record\'s queue', () => {
  it('runs the items that arrive behind a running step as one batch, and never across a step queued between', async () => {
    const queues = new SerialQueues()
    const ran: string[] = []
    let release = (): void => {}
    const first = queues.run('r', () => new Promise<void>((resolve) => { release = resolve }))
    const batch = (item: string): Promise<void> => queues.batch('r', 'write', item, async (items) => { ran.push(items.join('+')) })
    const queued = [batch('a'), batch('b'), batch('c')]
    const between = queues.run('r', async () => { ran.push('delete') })
    queued.push(batch('d'), batch('e'))
    const elsewhere = queues.batch('other', 'write', 'x', async (items) => { ran.push(`other:${items.join('+')}`) })
    await elsewhere
    expect(ran).toEqual(['other:x'])
    release()
    await Promise.all([first, between, ...queued])
    expect(ran).toEqual(['other:x', 'a+b+c', 'delete', 'd+e'])
    await queues.idle()
  })

  it('fails every item of a batch whose step fails', async () => {
    const queues = new SerialQueues()
    const steps: number[][] = []
    const failing = async (items: number[]): Promise<void> => {
      steps.push(items)
      throw new Error('commit failed')
    }
    const results = await Promise.allSettled([queues.batch('r', 'write', 1, failing), queues.batch('r', 'write', 2, failing)])
    expect(steps).toEqual([[1, 2]])
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected'])
  })
})

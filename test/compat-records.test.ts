/**
 * riptide/client's DeepstreamClient records beyond the shared scenarios (records.test.ts,
 * permissions.test.ts and workers.test.ts run those with both clients): path subscriptions and
 * views, callback forms, merge strategies, anonymous records, list entry events, reconnection
 * and the offline record cache.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CONNECTION_STATE, DeepstreamClient, LOCAL_WINS, MemoryRecordStore, type DeepstreamOptions } from '../src/client/index.js'
import { closeClients, connect, eventually, KINDS, startTestServer, url, type TestServer } from './helpers.js'

describe.each(KINDS)('riptide/client DeepstreamClient records over %s', (kind) => {
  let server: TestServer
  const opened: DeepstreamClient[] = []
  const client = (options: Partial<DeepstreamOptions> = {}): DeepstreamClient => {
    const made = new DeepstreamClient(url(server, '/riptide'), { maxReconnectAttempts: 0, ...options })
    made.on('error', () => {})
    opened.push(made)
    return made
  }
  const loggedIn = async (options: Partial<DeepstreamOptions> = {}): Promise<DeepstreamClient> => {
    const made = client(options)
    await made.login()
    return made
  }
  /** Drops the client's socket as a server restart would; resolves once it is logged in again. */
  const dropAndWait = async (target: DeepstreamClient, whileAway: () => Promise<void>): Promise<void> => {
    const states: string[] = []
    target.on('connectionStateChanged', (state: string) => states.push(state))
    ;(target as unknown as { connection: { socket: { close (): void } | null } }).connection.socket?.close()
    await eventually(() => expect(states).toContain(CONNECTION_STATE.RECONNECTING))
    await whileAway()
    await eventually(() => expect(target.getConnectionState()).toBe(CONNECTION_STATE.OPEN))
  }
  beforeAll(async () => { server = await startTestServer({}, kind) })
  afterEach(() => {
    for (const each of opened.splice(0)) each.close()
    closeClients()
  })
  afterAll(async () => { await server.close() })

  it('calls path and whole-record callbacks when their value changes, and a discarded view\'s callbacks no more', async () => {
    const writer = await loggedIn()
    const reader = await loggedIn()
    const first = reader.record.getRecord('compat/paths')
    const second = reader.record.getRecord('compat/paths')
    await first.whenReady()
    const city: unknown[] = []
    const whole: unknown[] = []
    const viaSecond: unknown[] = []
    first.subscribe('address.city', (value) => city.push(value), true)
    first.subscribe((data) => whole.push(data))
    second.subscribe((data) => viaSecond.push(data))
    expect(city).toEqual([undefined])
    await writer.record.setDataWithAck('compat/paths', { address: { city: 'Oslo' } })
    await eventually(() => expect(city).toEqual([undefined, 'Oslo']))
    await writer.record.setDataWithAck('compat/paths', 'name', 'Ada')
    await eventually(() => expect(whole).toHaveLength(2))
    expect(city).toEqual([undefined, 'Oslo']) // the city did not change
    expect(whole[1]).toEqual({ address: { city: 'Oslo' }, name: 'Ada' })
    first.discard()
    await writer.record.setDataWithAck('compat/paths', 'name', 'Grace')
    await eventually(() => expect(viaSecond).toHaveLength(3))
    expect(whole).toHaveLength(2)
    expect(second.get('name')).toBe('Grace')
    // get returns copies: changing one does not change the record.
    const copy = second.get() as { name: string }
    copy.name = 'changed'
    expect(second.get('name')).toBe('Grace')
  })

  it('holds what the server holds: data set as JSON, and a __proto__ key as a key', async () => {
    const [a, b] = [await loggedIn(), await loggedIn()]
    const mine = a.record.getRecord('compat/json')
    await mine.whenReady()
    await mine.setWithAck({ when: new Date(0), gone: undefined, list: [1, { deep: true }] })
    expect(mine.get()).toEqual({ when: '1970-01-01T00:00:00.000Z', list: [1, { deep: true }] })
    const theirs = b.record.getRecord('compat/json')
    await theirs.whenReady()
    expect(theirs.get()).toEqual(mine.get())
    await a.record.setDataWithAck('compat/json', JSON.parse('{"__proto__": {"polluted": true}, "plain": 1}') as Record<string, unknown>)
    await eventually(() => expect(theirs.get('plain')).toBe(1))
    const copy = theirs.get() as Record<string, unknown>
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.keys(copy)).toEqual(['__proto__', 'plain'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('answers through callbacks: setWithAck, setData, snapshot, head, has and delete', async () => {
    const a = await loggedIn()
    const record = a.record.getRecord('compat/callbacks')
    await new Promise<void>((resolve) => record.whenReady(() => resolve()))
    expect(await new Promise((resolve) => record.setWithAck({ n: 1 }, resolve))).toBe(null)
    expect(await new Promise((resolve) => a.record.setData('compat/callbacks/other', { m: 1 }, (error) => resolve(error)))).toBe(null)
    expect(await new Promise((resolve) => a.record.snapshot('compat/callbacks/other', (error, data) => resolve([error, data])))).toEqual([null, { m: 1 }])
    expect(await new Promise((resolve) => a.record.head('compat/callbacks', (error, version) => resolve([error, version])))).toEqual([null, 1])
    expect(await new Promise((resolve) => a.record.has('compat/callbacks/none', (error, has) => resolve([error, has])))).toEqual([null, false])
    expect(await new Promise((resolve) => a.record.snapshot('compat/callbacks/none', (error) => resolve(error)))).toBe('RECORD_NOT_FOUND')
    expect(await new Promise((resolve) => record.delete(resolve))).toBe(null)
    expect(await a.record.has('compat/callbacks')).toBe(false)
    expect(() => a.record.delete('compat/callbacks/other')).toThrow('Delete is not yet supported without use of a Record')
    expect(() => a.record.setData('x', 5 as unknown as object)).toThrow('data must be an object')
  })

  it('settles a write conflict by the merge strategy: remote wins by default, and the lost write is refused', async () => {
    const [a, b] = [await loggedIn(), await loggedIn()]
    const [ra, rb] = [a.record.getRecord('compat/remote-wins'), b.record.getRecord('compat/remote-wins')]
    await Promise.all([ra.whenReady(), rb.whenReady()])
    // Both send version 1 in the same turn: the server takes one, the other gets VERSION_EXISTS.
    const outcomes = await Promise.all([ra.setWithAck({ by: 'a' }).then(() => 'acked', (error) => error), rb.setWithAck({ by: 'b' }).then(() => 'acked', (error) => error)])
    const winner = outcomes[0] === 'acked' ? 'a' : 'b'
    expect([...outcomes].sort()).toEqual(['VERSION_EXISTS', 'acked'])
    await eventually(() => {
      expect(ra.get()).toEqual({ by: winner })
      expect(rb.get()).toEqual({ by: winner })
    })
    expect(await a.record.head('compat/remote-wins')).toBe(1)
  })

  it('writes the local data over the server\'s with LOCAL_WINS, and a custom merge set by pattern', async () => {
    const [a, b] = [await loggedIn(), await loggedIn()]
    for (const each of [a, b]) each.record.setMergeStrategy('compat/local-wins', LOCAL_WINS)
    const [ra, rb] = [a.record.getRecord('compat/local-wins'), b.record.getRecord('compat/local-wins')]
    await Promise.all([ra.whenReady(), rb.whenReady()])
    // The loser's write is merged and sent again as version 2, and its acknowledgement follows it.
    await Promise.all([ra.setWithAck({ by: 'a' }), rb.setWithAck({ by: 'b' })])
    // Both clients hold the record, so they answer head and snapshot from it: ask a third.
    const third = await loggedIn()
    expect(await third.record.head('compat/local-wins')).toBe(2)
    const final = await third.record.snapshot('compat/local-wins')
    await eventually(() => {
      expect([ra.version, rb.version]).toEqual([2, 2])
      expect(ra.get()).toEqual(final)
      expect(rb.get()).toEqual(final)
    })

    for (const each of [a, b]) each.record.setMergeStrategyRegExp(/^compat\/merged\//, (local, _lv, remote, _rv, done) => done(null, { ...(remote as object), ...(local as object) }))
    const [ma, mb] = [a.record.getRecord('compat/merged/1'), b.record.getRecord('compat/merged/1')]
    await Promise.all([ma.whenReady(), mb.whenReady()])
    await Promise.all([ma.setWithAck({ a: 1 }), mb.setWithAck({ b: 2 })])
    await eventually(() => {
      expect(ma.get()).toEqual({ a: 1, b: 2 })
      expect(mb.get()).toEqual({ a: 1, b: 2 })
    })
  })

  it('moves an anonymous record\'s callbacks to the record it is named next', async () => {
    const a = await loggedIn()
    await a.record.setDataWithAck('compat/anon/1', { n: 1 })
    await a.record.setDataWithAck('compat/anon/2', { n: 2 })
    const anonymous = a.record.getAnonymousRecord()
    const names: unknown[] = []
    const seen: unknown[] = []
    anonymous.on('nameChanged', (name: string) => names.push(name))
    anonymous.subscribe('n', (value) => seen.push(value), true)
    await anonymous.setName('compat/anon/1')
    expect(anonymous.get()).toEqual({ n: 1 })
    await anonymous.setName('compat/anon/2')
    expect(anonymous.name).toBe('compat/anon/2')
    await eventually(() => expect(seen).toEqual([1, 2]))
    expect(names).toEqual(['compat/anon/1', 'compat/anon/2'])
    // The first record was discarded: writes to it no longer reach the callbacks.
    await a.record.setDataWithAck('compat/anon/1', { n: 10 })
    await anonymous.setWithAck({ n: 3 })
    await eventually(() => expect(seen).toEqual([1, 2, 3]))
  })

  it('tells a list\'s listeners which entries were added, removed and moved', async () => {
    const [a, b] = [await loggedIn(), await loggedIn()]
    const mine = a.record.getList('compat/list')
    const theirs = b.record.getList('compat/list')
    await Promise.all([mine.whenReady(), theirs.whenReady()])
    const events: string[] = []
    for (const event of ['entry-added', 'entry-removed', 'entry-moved']) theirs.on(event, (entry: string, index: number) => events.push(`${event} ${entry} ${index}`))
    const lists: string[][] = []
    theirs.subscribe((entries) => lists.push(entries))
    await mine.setEntriesWithAck(['x', 'y'])
    await eventually(() => expect(events).toEqual(['entry-added x 0', 'entry-added y 1']))
    mine.addEntry('w', 0)
    await eventually(() => expect(theirs.getEntries()).toEqual(['w', 'x', 'y']))
    mine.removeEntry('y')
    await eventually(() => expect(theirs.getEntries()).toEqual(['w', 'x']))
    expect(events.slice(2)).toEqual(['entry-added w 0', 'entry-moved x 1', 'entry-moved y 2', 'entry-removed y 2'])
    expect(lists.at(-1)).toEqual(['w', 'x'])
    expect(theirs.isEmpty()).toBe(false)
    expect(() => mine.setEntries([1] as unknown as string[])).toThrow('entries must be an array of record names')
    expect(() => mine.addEntry('z', 7)).toThrow('Index must be within current entries')
  })

  it('after a reconnection sends what was written offline and takes what others wrote meanwhile', async () => {
    const away = await loggedIn({ maxReconnectAttempts: 5, reconnectIntervalIncrement: 400 })
    const other = await loggedIn()
    const mine = away.record.getRecord('compat/reconnect/mine')
    const theirs = away.record.getRecord('compat/reconnect/theirs')
    await Promise.all([mine.whenReady(), theirs.whenReady()])
    await mine.setWithAck({ step: 1 })
    await dropAndWait(away, async () => {
      // Offline: the write applies locally, its acknowledgement says so, and it is sent after the login.
      await expect(mine.setWithAck({ step: 2 })).rejects.toBe('client offline')
      mine.set('extra', true)
      expect(mine.get()).toEqual({ step: 2, extra: true })
      await other.record.setDataWithAck('compat/reconnect/theirs', { by: 'other' })
    })
    await eventually(async () => expect(await other.record.snapshot('compat/reconnect/mine')).toEqual({ step: 2, extra: true }))
    expect(await other.record.head('compat/reconnect/mine')).toBe(2)
    await eventually(() => expect(theirs.get()).toEqual({ by: 'other' }))
    expect(theirs.version).toBe(1)
    // And both keep following the server.
    await other.record.setDataWithAck('compat/reconnect/mine', 'step', 3)
    await eventually(() => expect(mine.get('step')).toBe(3))
    expect(mine.version).toBe(3)
  })

  it('keeps records in the offline cache: ready before the login, brought up to date after it, and created if made offline', async () => {
    const storage = new MemoryRecordStore()
    const first = await loggedIn({ offlineEnabled: true, storage })
    const cached = first.record.getRecord('compat/offline/cached')
    await cached.whenReady()
    await cached.setWithAck({ v: 1 })
    cached.discard()
    first.close()
    // Changed on the server after the first client left.
    const writer = await connect(server)
    await writer.record.setDataWithAck('compat/offline/cached', { v: 2 })

    const second = client({ offlineEnabled: true, storage })
    const again = second.record.getRecord('compat/offline/cached')
    await again.whenReady()
    expect(again.get()).toEqual({ v: 1 })
    expect(again.version).toBe(1)
    const made = second.record.getRecord('compat/offline/made')
    await made.whenReady()
    made.set({ made: 'offline' })
    await second.login()
    await eventually(() => expect(again.get()).toEqual({ v: 2 }))
    expect(again.version).toBe(2)
    await eventually(async () => expect(await writer.record.snapshot('compat/offline/made')).toEqual({ made: 'offline' }))
    await eventually(() => expect(made.version).toBe(1))
    await new Promise<void>((resolve, reject) => second.record.clearOfflineStorage((error) => { if (error === null) resolve(); else reject(error) }))
    const stored = (name: string): Promise<[number, unknown]> => new Promise((resolve) => storage.get(name, (_name, version, data) => resolve([version, data])))
    expect(await stored('compat/offline/cached')).toEqual([-1, null])
    // With saveUpdatesOffline every change is stored at once, not only at discard.
    const saving = await loggedIn({ offlineEnabled: true, saveUpdatesOffline: true, storage })
    const live = saving.record.getRecord('compat/offline/live')
    await live.whenReady()
    await live.setWithAck({ n: 1 })
    expect(await stored('compat/offline/live')).toEqual([1, { n: 1 }])
  })
})

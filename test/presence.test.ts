import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CLIENTS, closeClients, connectWith, eventually, KINDS, oneWorker, startTestServer } from './helpers.js'
import type { Reachable, TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'

// Each server kind, with @deepstream/client and with riptide/client's DeepstreamClient.
describe.each(KINDS.flatMap((kind) => CLIENTS.map((client) => [kind, client] as const)))('presence over %s, %s client', (kind, clientKind) => {
  const connect = (place: Reachable, auth: Record<string, unknown> = {}, options: Record<string, unknown> = {}): ReturnType<typeof connectWith> => connectWith(clientKind, place, auth, options)
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({}, kind) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('queries who is online, without the caller and without anonymous users', async () => {
    const alice = await connect(server, { username: 'alice' })
    await connect(server, { username: 'bob' })
    await connect(server)
    expect((await alice.presence.getAll()).sort()).toEqual(['bob'])
    expect(await alice.presence.getAll(['bob', 'carol'])).toEqual({ bob: true, carol: false })
  })

  it('notifies joins and leaves to per-user and to all subscribers, once per user', async () => {
    // Everyone on one worker, so that one worker's notices keep their order; subscriptions are
    // sent at once (no batching), and a query answered after them proves they landed.
    const place = oneWorker(server)
    const watcher = await connect(place, { username: 'watcher' }, { subscriptionInterval: 0 })
    const perUser: Array<[string, boolean]> = []
    const everyone: Array<[string, boolean]> = []
    watcher.presence.subscribe('dave', (user: string, online: boolean) => perUser.push([user, online]))
    // Users of the test before may still be leaving (their sockets close without waiting): only this test's count.
    watcher.presence.subscribe((user: string, online: boolean) => { if (user === 'dave' || user === 'marker') everyone.push([user, online]) })
    await watcher.presence.getAll()
    const first = await connect(place, { username: 'dave' })
    const second = await connect(place, { username: 'dave' })
    await eventually(() => expect(perUser).toEqual([['dave', true]]))
    const supervisor = server.supervisor
    if (supervisor === null) throw new Error('needs the supervisor\'s connection counts')
    const open = supervisor.connections(0)
    first.close()
    await eventually(() => expect(supervisor.connections(0)).toBe(open - 1))
    // A marker user in and out after dave's first socket left: a wrong 'dave left' would come first.
    const marker = await connect(place, { username: 'marker' })
    await eventually(() => expect(everyone).toContainEqual(['marker', true]))
    marker.close()
    await eventually(() => expect(everyone).toContainEqual(['marker', false]))
    expect(perUser).toEqual([['dave', true]])
    second.close()
    await eventually(() => expect(perUser).toEqual([['dave', true], ['dave', false]]))
    // The "all" notice is a frame of its own, read after the per-user one.
    await eventually(() => expect(everyone).toEqual([['dave', true], ['marker', true], ['marker', false], ['dave', false]]))
  })
})

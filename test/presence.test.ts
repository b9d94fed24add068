import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeClients, connect, eventually, KINDS, sleep, startTestServer } from './helpers.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'

describe.each(KINDS)('presence over %s', (kind) => {
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
    const watcher = await connect(server, { username: 'watcher' })
    const perUser: Array<[string, boolean]> = []
    const everyone: Array<[string, boolean]> = []
    watcher.presence.subscribe('dave', (user: string, online: boolean) => perUser.push([user, online]))
    watcher.presence.subscribe((user: string, online: boolean) => everyone.push([user, online]))
    await sleep(250)
    const first = await connect(server, { username: 'dave' })
    const second = await connect(server, { username: 'dave' })
    await eventually(() => expect(perUser).toEqual([['dave', true]]))
    first.close()
    await sleep(150)
    expect(perUser).toEqual([['dave', true]])
    second.close()
    await eventually(() => expect(perUser).toEqual([['dave', true], ['dave', false]]))
    // The "all" notice is a frame of its own, read after the per-user one.
    await eventually(() => expect(everyone).toEqual([['dave', true], ['dave', false]]))
  })
})

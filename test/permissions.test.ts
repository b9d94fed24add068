import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { closeClients, connect, RawClient, sleep, startTestServer } from './helpers.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'
import { EVENT_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

describe('valve permissions', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      auth: [{ type: 'file', options: { path: 'users.yml' } }],
      permission: { type: 'config', options: { path: 'permissions.yml' } },
    }, 'uws', fixtures)
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('uses $variables and user: only the owner writes their profile', async () => {
    const alice = await connect(server, { username: 'alice', password: 'wonderland' })
    await alice.record.setDataWithAck('profile/alice', { bio: 'hi' })
    await expect(alice.record.setDataWithAck('profile/bob', { bio: 'mine now' })).rejects.toBe('MESSAGE_DENIED')
  })

  it('checks data against oldData, for updates and for patches', async () => {
    const bob = await connect(server, { username: 'bob', password: 'builder' })
    await bob.record.setDataWithAck('counter/1', { value: 5 })
    await bob.record.setDataWithAck('counter/1', { value: 6 })
    await expect(bob.record.setDataWithAck('counter/1', { value: 2 })).rejects.toBe('MESSAGE_DENIED')
    await expect(bob.record.setDataWithAck('counter/1', 'value', 1)).rejects.toBe('MESSAGE_DENIED')
    await bob.record.setDataWithAck('counter/1', 'value', 9)
    expect(await bob.record.snapshot('counter/1')).toEqual({ value: 9 })
  })

  it('uses serverData for delete, and treats ERASE as a write', async () => {
    const bob = await connect(server, { username: 'bob', password: 'builder' })
    const raw = await RawClient.login(server, { username: 'bob', password: 'builder' })
    await bob.record.setDataWithAck('profile/bob', { bio: 'x', keep: 1 })
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: 'profile/bob' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.MESSAGE_DENIED, originalAction: RECORD_ACTION.DELETE, isError: true })
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.ERASE, name: 'profile/alice', version: -1, path: 'bio' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.MESSAGE_DENIED, originalAction: RECORD_ACTION.ERASE })
    raw.close()
  })

  it('denies reads of secret records and unknown rules', async () => {
    const bob = await connect(server, { username: 'bob', password: 'builder' })
    await expect(bob.record.snapshot('secret/plans')).rejects.toBe('MESSAGE_DENIED')
    await expect(bob.rpc.make('restricted', null)).rejects.toBe('MESSAGE_DENIED')
  })

  it('checks event publish rules with data and user', async () => {
    const raw = await RawClient.login(server, { username: 'bob', password: 'builder' })
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'admin/reboot', data: '{}' })
    expect(await raw.next((m) => m.topic === TOPIC.EVENT)).toMatchObject({ action: EVENT_ACTION.MESSAGE_DENIED, name: 'admin/reboot' })
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'chat/1', data: '{"text":"this text is far too long to pass"}' })
    expect(await raw.next((m) => m.topic === TOPIC.EVENT)).toMatchObject({ action: EVENT_ACTION.MESSAGE_DENIED })
    const listener = await connect(server, { username: 'alice', password: 'wonderland' })
    const got: unknown[] = []
    listener.event.subscribe('chat/1', (d: unknown) => got.push(d))
    await sleep(200)
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'chat/1', data: '{"text":"short"}' })
    await sleep(150)
    expect(got).toEqual([{ text: 'short' }])
    raw.send({ topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name: 'restricted', correlationId: 'c1', data: '1' })
    expect(await raw.next((m) => m.topic === TOPIC.RPC)).toMatchObject({ action: RPC_ACTION.MESSAGE_DENIED, correlationId: 'c1' })
    raw.close()
  })
})

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { CLIENTS, closeClients, connect, connectWith, DEFAULT_KIND, eventually, RawClient, startInProcessServer, startTestServer } from './helpers.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'
import { EVENT_ACTION, PRESENCE_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

describe.each(CLIENTS)('valve permissions with the %s client', (clientKind) => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      auth: [{ type: 'file', options: { path: 'users.yml' } }],
      permission: { type: 'config', options: { path: 'permissions.yml' } },
    }, DEFAULT_KIND, fixtures)
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('uses $variables and user: only the owner writes their profile', async () => {
    const alice = await connectWith(clientKind, server, { username: 'alice', password: 'wonderland' })
    await alice.record.setDataWithAck('profile/alice', { bio: 'hi' })
    await expect(alice.record.setDataWithAck('profile/bob', { bio: 'mine now' })).rejects.toBe('MESSAGE_DENIED')
  })

  it('checks data against oldData, for updates and for patches', async () => {
    const bob = await connectWith(clientKind, server, { username: 'bob', password: 'builder' })
    await bob.record.setDataWithAck('counter/1', { value: 5 })
    await bob.record.setDataWithAck('counter/1', { value: 6 })
    await expect(bob.record.setDataWithAck('counter/1', { value: 2 })).rejects.toBe('MESSAGE_DENIED')
    await expect(bob.record.setDataWithAck('counter/1', 'value', 1)).rejects.toBe('MESSAGE_DENIED')
    await bob.record.setDataWithAck('counter/1', 'value', 9)
    expect(await bob.record.snapshot('counter/1')).toEqual({ value: 9 })
  })

  it('uses serverData for delete, and treats ERASE as a write', async () => {
    const bob = await connectWith(clientKind, server, { username: 'bob', password: 'builder' })
    const raw = await RawClient.login(server, { username: 'bob', password: 'builder' })
    await bob.record.setDataWithAck('profile/bob', { bio: 'x', keep: 1 })
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: 'profile/bob' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.MESSAGE_DENIED, originalAction: RECORD_ACTION.DELETE, isError: true })
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.ERASE, name: 'profile/alice', version: -1, path: 'bio' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.MESSAGE_DENIED, originalAction: RECORD_ACTION.ERASE })
    raw.close()
  })

  it('denies reads of secret records and unknown rules', async () => {
    const bob = await connectWith(clientKind, server, { username: 'bob', password: 'builder' })
    await expect(bob.record.snapshot('secret/plans')).rejects.toBe('MESSAGE_DENIED')
    await expect(bob.rpc.make('restricted', null)).rejects.toBe('MESSAGE_DENIED')
    // A record whose subscription is refused says so through its error event, and never gets ready.
    const secret = bob.record.getRecord('secret/plans')
    const errors: unknown[][] = []
    secret.on('error', (...args: unknown[]) => errors.push(args))
    await eventually(() => expect(errors).toEqual([['MESSAGE_DENIED', 'SUBSCRIBECREATEANDREAD']]))
    expect(secret.isReady).toBe(false)
  })

  it('checks event publish rules with data and user', async () => {
    const raw = await RawClient.login(server, { username: 'bob', password: 'builder' })
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'admin/reboot', data: '{}' })
    expect(await raw.next((m) => m.topic === TOPIC.EVENT)).toMatchObject({ action: EVENT_ACTION.MESSAGE_DENIED, name: 'admin/reboot' })
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'chat/1', data: '{"text":"this text is far too long to pass"}' })
    expect(await raw.next((m) => m.topic === TOPIC.EVENT)).toMatchObject({ action: EVENT_ACTION.MESSAGE_DENIED })
    const listener = await connectWith(clientKind, server, { username: 'alice', password: 'wonderland' })
    const got: unknown[] = []
    listener.event.subscribe('chat/1', (d: unknown) => got.push(d))
    // Allowed, and sent until the listener's subscription is live and it hears one.
    await eventually(() => {
      raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'chat/1', data: '{"text":"short"}' })
      expect(got).toContainEqual({ text: 'short' })
    })
    raw.send({ topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name: 'restricted', correlationId: 'c1', data: '1' })
    expect(await raw.next((m) => m.topic === TOPIC.RPC)).toMatchObject({ action: RPC_ACTION.MESSAGE_DENIED, correlationId: 'c1' })
    raw.close()
  })
})

describe('valve denials of every rule type, and the now, action and name variables', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      permission: {
        type: 'config',
        options: {
          permissions: {
            record: {
              '*': { create: true, write: true, read: true, delete: true, listen: true, notify: true },
              'nocreate/*': { create: false },
              'nolisten/*': { listen: false },
              'nonotify/*': { notify: false },
            },
            event: {
              '*': { publish: true, subscribe: true, listen: true },
              'nosub/*': { subscribe: false },
              // A rule that reads the name, the action number and the clock.
              'vars/*': { publish: `name === 'vars/ok' && action === ${EVENT_ACTION.EMIT} && now > 1700000000000` },
            },
            rpc: { '*': { provide: true, request: true }, noprovide: { provide: false } },
            presence: { '*': { allow: true }, hidden: { allow: false } },
          },
        },
      },
    })
  })
  afterAll(async () => { await server.close() })

  it('refuses each denied action with its topic\'s MESSAGE_DENIED, naming the name and the action', async () => {
    const raw = await RawClient.login(server)
    const denied = async (topic: number, action: number, fields: Record<string, unknown>, name: string, correlationId: string): Promise<void> => {
      raw.send({ topic, action, correlationId, ...fields } as never)
      expect(await raw.next((m) => m.correlationId === correlationId && m.isAck !== true), correlationId).toMatchObject({ topic, action: DENIED[topic], originalAction: action, name })
    }
    await denied(TOPIC.RECORD, RECORD_ACTION.CREATEANDUPDATE, { name: 'nocreate/a', version: -1, data: '{}', isWriteAck: true }, 'nocreate/a', 'create')
    await denied(TOPIC.RECORD, RECORD_ACTION.LISTEN, { name: 'nolisten/.*' }, 'nolisten/.*', 'listen')
    await denied(TOPIC.RECORD, RECORD_ACTION.NOTIFY, { names: ['nonotify/a'] }, 'nonotify/a', 'notify')
    await denied(TOPIC.EVENT, EVENT_ACTION.SUBSCRIBE, { names: ['nosub/a'] }, 'nosub/a', 'subscribe')
    await denied(TOPIC.RPC, RPC_ACTION.PROVIDE, { names: ['noprovide'] }, 'noprovide', 'provide')
    await denied(TOPIC.PRESENCE, PRESENCE_ACTION.SUBSCRIBE, { names: ['hidden'] }, 'hidden', 'presence')
    // The same actions on names the rules allow go through.
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['open/a'], correlationId: 'sub-ok' })
    expect(await raw.next((m) => m.correlationId === 'sub-ok')).toMatchObject({ isAck: true })
    raw.close()
  })

  it('evaluates name, action and now in a rule', async () => {
    const publisher = await RawClient.login(server)
    publisher.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'vars/no', data: '1' })
    expect(await publisher.next((m) => m.name === 'vars/no')).toMatchObject({ action: EVENT_ACTION.MESSAGE_DENIED, originalAction: EVENT_ACTION.EMIT })
    const listener = await RawClient.login(server)
    listener.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['vars/ok'], correlationId: 'sub' })
    await listener.next((m) => m.correlationId === 'sub' && m.isAck === true)
    publisher.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'vars/ok', data: '2' })
    expect(await listener.next((m) => m.action === EVENT_ACTION.EMIT)).toMatchObject({ name: 'vars/ok', data: '2' })
    publisher.close()
    listener.close()
  })
})

const DENIED: Record<number, number> = {
  [TOPIC.RECORD]: RECORD_ACTION.MESSAGE_DENIED,
  [TOPIC.EVENT]: EVENT_ACTION.MESSAGE_DENIED,
  [TOPIC.RPC]: RPC_ACTION.MESSAGE_DENIED,
  [TOPIC.PRESENCE]: PRESENCE_ACTION.MESSAGE_DENIED,
}

describe('the permission plugin is asked once per name and action', () => {
  it('once for each name of a SUBSCRIBEANDREAD, and create then read for a SUBSCRIBECREATEANDREAD of a new record', async () => {
    const server = await startInProcessServer({ permission: { path: 'test/fixtures/plugins/counting-permission.mjs' } })
    try {
      const calls = (): string[] => (globalThis as { countingPermissionCalls?: string[] }).countingPermissionCalls ?? []
      const raw = await RawClient.login(server)
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBECREATEANDREAD, names: ['asked/new'], correlationId: 'c' })
      await raw.next((m) => m.action === RECORD_ACTION.READ_RESPONSE && m.name === 'asked/new')
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBEANDREAD, names: ['asked/a', 'asked/b'], correlationId: 'r' })
      await raw.next((m) => m.action === RECORD_ACTION.READ_RESPONSE && m.name === 'asked/b')
      expect(calls().filter((call) => call.includes(' asked/'))).toEqual([
        `${TOPIC.RECORD}/${RECORD_ACTION.CREATE} asked/new`,
        `${TOPIC.RECORD}/${RECORD_ACTION.READ} asked/new`,
        `${TOPIC.RECORD}/${RECORD_ACTION.SUBSCRIBEANDREAD} asked/a`,
        `${TOPIC.RECORD}/${RECORD_ACTION.SUBSCRIBEANDREAD} asked/b`,
      ])
      raw.close()
    } finally {
      await server.close()
    }
  })
})

/**
 * The custom plugin API through the example plugins, loaded from the built output as a config
 * loads them, on 2 workers: a plugin that announces logins and logouts as events (with the
 * handshake), and an operator plugin that refreshes Valve rules, changes timeouts at run time and
 * writes a record, each over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { DeepstreamClient } from '@deepstream/client'
import { closeClients, connect, DEFAULT_KIND, eventually, makeTempDir, RawClient, removeTempDirs, startTestServer, workerPort, type TestServer } from './helpers.js'
import { RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

const dist = resolve('dist/examples')
const TOKEN = 'ops-token-0123456789'
const OPTIONS = { subscriptionInterval: 0 }
let server: TestServer | null = null
afterEach(async () => {
  closeClients()
  await server?.close()
  server = null
  removeTempDirs()
})

/**
 * Subscribes `listener` to `event`, keeping what arrives in `received`, and resolves once an emit
 * from `probe` has reached it: the subscription is live. Probes are not kept.
 */
async function liveSubscription (listener: DeepstreamClient, probe: DeepstreamClient, event: string, received: unknown[]): Promise<void> {
  let probed = false
  listener.event.subscribe(event, (data: unknown) => {
    if ((data as { probe?: boolean } | null)?.probe === true) probed = true
    else received.push(data)
  })
  await eventually(() => {
    probe.event.emit(event, { probe: true })
    expect(probed).toBe(true)
  })
}

describe('session announcer example', () => {
  it('emits every login and logout, with the remote address, to subscribers on any worker', async () => {
    server = await startTestServer({ plugins: { announcer: { path: join(dist, 'session-announcer-plugin.js'), options: { event: 'who' } } } }, DEFAULT_KIND, process.cwd(), 2)
    const listener = await connect(workerPort(server, 0), { username: 'ada' }, OPTIONS)
    const probe = await connect(workerPort(server, 0), { username: 'probe' }, OPTIONS)
    const heard: unknown[] = []
    await liveSubscription(listener, probe, 'who', heard)
    const bob = await connect(workerPort(server, 1), { username: 'bob' }, OPTIONS)
    await eventually(() => expect(heard).toContainEqual({ type: 'login', userId: 'bob', endpoint: 'ws-binary', remoteAddress: '127.0.0.1' }))
    bob.close()
    await eventually(() => expect(heard).toContainEqual({ type: 'logout', userId: 'bob', endpoint: 'ws-binary', remoteAddress: '127.0.0.1' }))
  })
})

describe('operator example', () => {
  const post = (path: string, body: unknown, token = TOKEN) => fetch(`http://127.0.0.1:${server?.port}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-token': token }, body: JSON.stringify(body),
  })

  it('refreshes the Valve rules on every worker, and keeps them when the new file is invalid', async () => {
    const dir = makeTempDir()
    const rules = join(dir, 'permissions.yml')
    writeFileSync(rules, 'event:\n  "*": { publish: true, subscribe: true }\n')
    server = await startTestServer({
      permission: { type: 'config', options: { path: rules } },
      plugins: { ops: { path: join(dist, 'admin-plugin.js'), options: { token: TOKEN } } },
    }, DEFAULT_KIND, process.cwd(), 2)
    const listener = await connect(workerPort(server, 0), { username: 'ada' }, OPTIONS)
    const publisher = await connect(workerPort(server, 1), { username: 'bob' }, OPTIONS)
    const errors: string[] = []
    publisher.on('error', (_error: unknown, event: string) => errors.push(event))
    const heard: unknown[] = []
    await liveSubscription(listener, publisher, 'news', heard)
    expect((await post('/ops/permissions/refresh', {}, 'wrong')).status).toBe(403)

    writeFileSync(rules, 'event:\n  "*": { publish: false, subscribe: true }\n')
    expect(await (await post('/ops/permissions/refresh', {})).json()).toEqual({ refreshed: true })
    // The worker that took the request reloads at once, the other on the cluster message.
    await eventually(() => {
      publisher.event.emit('news', { after: 'refresh' })
      expect(errors).toContain('MESSAGE_DENIED')
    })

    writeFileSync(rules, 'event:\n  "*": { publish: "process.exit()" }\n')
    const refused = await post('/ops/permissions/refresh', {})
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: string }).error).toMatch(/process/)
    errors.length = 0
    publisher.event.emit('news', { still: 'denied' })
    await eventually(() => expect(errors).toContain('MESSAGE_DENIED'))
    expect(heard).toEqual([])
  })

  it('changes an RPC timeout at run time on every worker, and writes a record that subscribers see', async () => {
    server = await startTestServer({ plugins: { ops: { path: join(dist, 'admin-plugin.js'), options: { token: TOKEN } } } }, DEFAULT_KIND, process.cwd(), 2)
    const provider = await connect(workerPort(server, 0), { username: 'ada' }, OPTIONS)
    const caller = await connect(workerPort(server, 1), { username: 'bob' }, OPTIONS)
    provider.rpc.provide('slow', (_data: unknown, response: { send: (v: unknown) => void }) => { setTimeout(() => response.send('late'), 300) })
    await eventually(async () => expect(await caller.rpc.make('slow', null)).toBe('late'))
    expect(await (await post('/ops/timeouts', { key: 'rpc.responseTimeout', ms: 100 })).json()).toEqual({ 'rpc.responseTimeout': 100 })
    await eventually(async () => expect(await caller.rpc.make('slow', null).catch((error: unknown) => error)).toBe('RESPONSE_TIMEOUT'))
    expect((await post('/ops/timeouts', { key: 'no.such', ms: 1 })).status).toBe(400)

    const record = caller.record.getRecord('ops/announcement')
    await record.whenReady()
    const seen: unknown[] = []
    record.subscribe('text', (text: unknown) => seen.push(text))
    expect(await (await post('/ops/announcement', { text: 'maintenance at noon' })).json()).toEqual({ version: 1 })
    expect(await (await post('/ops/announcement', { text: 'maintenance done' })).json()).toEqual({ version: 2 })
    await eventually(() => expect(seen).toEqual(['maintenance at noon', 'maintenance done']))
  })

  it('shortens the storage retrieval timeout at run time on every worker', async () => {
    server = await startTestServer({
      plugins: { ops: { path: join(dist, 'admin-plugin.js'), options: { token: TOKEN } } },
      storage: { path: resolve('test/fixtures/plugins/map-storage.mjs') },
      record: { storageRetrievalTimeout: 20_000 },
    }, DEFAULT_KIND, process.cwd(), 2)
    expect(await (await post('/ops/timeouts', { key: 'record.storageRetrievalTimeout', ms: 150 })).json()).toEqual({ 'record.storageRetrievalTimeout': 150 })
    for (const index of [0, 1]) {
      const reader = await RawClient.login(workerPort(server, index))
      // The map storage never answers reads under stall/: the new bound, not the old 20 s, ends them.
      reader.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: `stall/${index}`, correlationId: 'r' })
      expect(await reader.next((m) => m.correlationId === 'r' || m.name === `stall/${index}`, 3000)).toMatchObject({ action: RECORD_ACTION.STORAGE_RETRIEVAL_TIMEOUT })
      reader.close()
    }
  })
})

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CLIENTS, closeClients, connectWith, eventually, KINDS, RawClient, startTestServer } from './helpers.js'
import { oneWorker } from './helpers.js'
import type { Reachable, TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'
import { RPC_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

interface RpcResponse { send (data: unknown): void, reject (): void, error (message: string): void, accept (): void, autoAck: boolean }

// Each server kind, with @deepstream/client and with riptide/client's DeepstreamClient.
describe.each(KINDS.flatMap((kind) => CLIENTS.map((client) => [kind, client] as const)))('rpc over %s, %s client', (kind, clientKind) => {
  const connect = (place: Reachable, auth: Record<string, unknown> = {}, options: Record<string, unknown> = {}): ReturnType<typeof connectWith> => connectWith(clientKind, place, auth, options)
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({ rpc: { ackTimeout: 300, responseTimeout: 800, provideRequestorName: true } }, kind) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('routes a request to a provider and the response back, with the requestor name', async () => {
    const provider = await connect(server)
    const caller = await connect(server, { username: 'alice' })
    let requestor: unknown
    provider.rpc.provide('add', (data: { a: number, b: number }, response: RpcResponse, meta?: { requestorName?: string }) => {
      requestor = meta?.requestorName
      response.send(data.a + data.b)
    })
    // Answered once the provider's registration has landed.
    await eventually(async () => expect(await caller.rpc.make('add', { a: 2, b: 3 })).toBe(5))
    expect(requestor).toBe('alice')
  })

  it('forwards provider errors', async () => {
    const provider = await connect(server)
    const caller = await connect(server)
    provider.rpc.provide('fails', (_data: unknown, response: RpcResponse) => response.error('nope'))
    await eventually(async () => expect(await caller.rpc.make('fails', null).catch((error: unknown) => error)).toBe('nope'))
  })

  it('reroutes a rejected request to another provider', async () => {
    const rejecter = await connect(oneWorker(server))
    const worker = await connect(oneWorker(server))
    const caller = await connect(oneWorker(server))
    let rejected = 0
    rejecter.rpc.provide('job', (_data: unknown, response: RpcResponse) => { rejected++; response.reject() })
    worker.rpc.provide('job', (_data: unknown, response: RpcResponse) => response.send('done'))
    // Providers are picked at random: ask until the rejecter has been asked and the other answered.
    await eventually(async () => {
      expect(await caller.rpc.make('job', 0).catch((error: unknown) => error)).toBe('done')
      expect(rejected).toBeGreaterThan(0)
    }, 10_000)
  })

  it('answers NO_RPC_PROVIDER when nobody provides, or everyone rejects', async () => {
    const caller = await connect(server)
    await expect(caller.rpc.make('nobody', null)).rejects.toBe('NO_RPC_PROVIDER')
    const rejecter = await connect(server)
    let rejected = 0
    rejecter.rpc.provide('all-reject', (_data: unknown, response: RpcResponse) => { rejected++; response.reject() })
    // The same answer once the only provider has been asked and rejected.
    await eventually(async () => {
      expect(await caller.rpc.make('all-reject', null).catch((error: unknown) => error)).toBe('NO_RPC_PROVIDER')
      expect(rejected).toBeGreaterThan(0)
    })
  })

  it('times out a provider that never accepts, and one that accepts but never answers', async () => {
    const silent = await RawClient.login(server)
    silent.send({ topic: TOPIC.RPC, action: RPC_ACTION.PROVIDE, names: ['silent'], correlationId: '1' })
    await silent.next((m) => m.isAck === true)
    const caller = await connect(server)
    await expect(caller.rpc.make('silent', null)).rejects.toBe('ACCEPT_TIMEOUT')
    const slow = await connect(server)
    slow.rpc.provide('slow', (_data: unknown, response: RpcResponse) => { response.accept() })
    await eventually(async () => expect(await caller.rpc.make('slow', null).catch((error: unknown) => error)).toBe('RESPONSE_TIMEOUT'), 10_000)
    silent.close()
  })

  it('refuses a response with an unknown correlation id', async () => {
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RPC, action: RPC_ACTION.RESPONSE, name: 'x', correlationId: 'bogus', data: '1' })
    expect(await raw.next((m) => m.topic === TOPIC.RPC)).toMatchObject({ action: RPC_ACTION.INVALID_RPC_CORRELATION_ID, isError: true })
    raw.close()
  })
})

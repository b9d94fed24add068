import { describe, expect, it } from 'vitest'
import { KINDS, RawClient, startTestServer } from './helpers.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

describe.each(KINDS)('message size limit over %s', (kind) => {
  it('closes a socket that sends a frame over maxMessageSize', async () => {
    const server = await startTestServer({ connectionEndpoints: [{ type: 'ws-binary', options: { maxMessageSize: 1000 } }] }, kind)
    const raw = await RawClient.login(server)
    const closed = raw.closed()
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'big', data: JSON.stringify('x'.repeat(5000)) })
    // ws closes with 1009 (message too big); uWS drops the connection, which the client reports as
    // 1006 (uWS reserves 1006 for its own force-closes), so a crash is told apart by the worker count.
    expect(await closed).toBe(kind === 'node' ? 1009 : 1006)
    expect(server.supervisor?.deaths ?? 0).toBe(0)
    const after = await RawClient.login(server)
    after.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['small'], correlationId: 'after' })
    expect(await after.next((m) => m.correlationId === 'after')).toMatchObject({ isAck: true })
    after.close()
    await server.close()
  })
})

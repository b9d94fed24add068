import { describe, expect, it } from 'vitest'
import { KINDS, RawClient, startTestServer } from './helpers.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

describe.each(KINDS)('message size limit over %s', (kind) => {
  it('closes a socket that sends a frame over maxMessageSize', async () => {
    const server = await startTestServer({ connectionEndpoints: [{ type: 'ws-binary', options: { maxMessageSize: 1000 } }] }, kind)
    const raw = await RawClient.login(server)
    const closed = raw.closed()
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'big', data: JSON.stringify('x'.repeat(5000)) })
    expect(await closed).toBeGreaterThan(1000)
    await server.close()
  })
})

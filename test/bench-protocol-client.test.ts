import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProtocolClient } from '../bench/lib/protocol-client.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import type { Message } from '../src/native-free-core/protocol/message.js'
import { startTestServer, type TestServer } from './helpers.js'

describe('the load generator\'s protocol client waits for acknowledgements', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      permission: { type: 'config', options: { permissions: { event: { '*': { publish: true, subscribe: true }, 'closed/*': { subscribe: false } } } } },
    })
  })
  afterAll(async () => { await server.close() })

  for (const protocol of ['protobuf', 'native'] as const) {
    it(`resolves a subscription on its acknowledgement, after which it is live (${protocol})`, async () => {
      const subscriber = await ProtocolClient.login(server.port, {}, '127.0.0.1', protocol)
      const publisher = await ProtocolClient.login(server.port, {}, '127.0.0.1', protocol)
      const delivered = new Promise<Message>((resolve) => { subscriber.onMessage = resolve })
      await subscriber.request({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['open/a'], correlationId: 's' })
      publisher.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'open/a', data: '"1"' })
      expect(await delivered).toMatchObject({ action: EVENT_ACTION.EMIT, name: 'open/a', data: '"1"' })
      await subscriber.close()
      await publisher.close()
    })

    it(`rejects a request the server refuses, naming the reply (${protocol})`, async () => {
      const client = await ProtocolClient.login(server.port, {}, '127.0.0.1', protocol)
      await expect(client.request({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['closed/a'], correlationId: 'denied' }))
        .rejects.toThrow(new RegExp(`refused: .*"action":${EVENT_ACTION.MESSAGE_DENIED}`))
      // The client stays usable: the next request gets its own acknowledgement.
      await client.request({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['open/b'], correlationId: 'next' })
      await client.close()
    })
  }
})

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeClients, connect, eventually, KINDS, sleep, startTestServer } from './helpers.js'
import type { TestServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'

describe.each(KINDS)('events over %s', (kind) => {
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({}, kind) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('delivers an emit to subscribers and not back to the sender', async () => {
    const a = await connect(server)
    const b = await connect(server)
    const gotA: unknown[] = []
    const gotB: unknown[] = []
    a.event.subscribe('news', (data: unknown) => gotA.push(data))
    b.event.subscribe('news', (data: unknown) => gotB.push(data))
    await sleep(250)
    a.event.emit('news', { headline: 'hi' })
    await eventually(() => expect(gotB).toEqual([{ headline: 'hi' }]))
    // The client fires its own listeners locally at emit time, once; the server must not echo.
    await sleep(100)
    expect(gotA).toEqual([{ headline: 'hi' }])
  })

  it('stops delivering after unsubscribe', async () => {
    const a = await connect(server)
    const b = await connect(server)
    const got: unknown[] = []
    const listener = (data: unknown): void => { got.push(data) }
    b.event.subscribe('ticker', listener)
    await sleep(250)
    a.event.emit('ticker', 1)
    await eventually(() => expect(got).toEqual([1]))
    b.event.unsubscribe('ticker', listener)
    await sleep(250)
    a.event.emit('ticker', 2)
    await sleep(150)
    expect(got).toEqual([1])
  })
})

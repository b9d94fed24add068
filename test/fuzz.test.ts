/**
 * A few seconds of random and mutated frames at every endpoint (protobuf,
 * JSON, native, HTTP); afterwards a normal client is served and memory stayed
 * bounded. `npm run bench:fuzz` runs the same for minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeClients, connect, eventually, startTestServer, type TestServer } from './helpers.js'
import { fuzz } from '../bench/lib/fuzzer.js'

const SEED = Number(process.env.RIPTIDE_FUZZ_SEED ?? 20261128)

describe('fuzzing every endpoint', () => {
  let server: TestServer
  // Short RPC and HTTP timeouts: every request the fuzzer makes is answered well within its bound.
  beforeAll(async () => {
    server = await startTestServer({
      storage: { type: 'memory' },
      rpc: { ackTimeout: 300, responseTimeout: 1000 },
      connectionEndpoints: [{ type: 'ws-binary' }, { type: 'ws-json' }, { type: 'ws-native' }, { type: 'http', options: { requestTimeout: 2000 } }],
    })
  })
  afterAll(async () => {
    closeClients()
    await server.close()
  })

  it(`survives seconds of hostile frames (seed ${SEED}) and still serves a normal client`, async () => {
    const before = process.memoryUsage().rss
    const report = await fuzz(server.port, 4000, SEED, 4, 5000)
    expect(report.frames).toBeGreaterThan(1000)
    expect(report.unanswered, 'JIF requests the server left unanswered past their timeout').toEqual([])
    expect(report.stalledOpens, 'WebSocket upgrades neither accepted nor refused').toBe(0)
    console.log(`fuzz seed ${SEED}: ${report.frames} frames over ${report.connections} connections, ${report.closedByServer} closed by the server`)
    // No worker crashed and was quietly replaced.
    expect(server.supervisor?.deaths ?? 0).toBe(0)
    const client = await connect(server)
    const record = client.record.getRecord('after/fuzz')
    await record.whenReady()
    await record.setWithAck({ ok: true })
    expect(await client.record.snapshot('after/fuzz')).toEqual({ ok: true })
    const heard: unknown[] = []
    client.event.subscribe('after/fuzz', (data: unknown) => heard.push(data))
    const other = await connect(server)
    await eventually(() => {
      other.event.emit('after/fuzz', 'delivered')
      expect(heard).toContain('delivered')
    })
    // The server shares this process (its worker threads): all of it stays within bounds.
    expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024)
  }, 30_000)
})

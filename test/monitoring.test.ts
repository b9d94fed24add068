/**
 * monitoring type `http` on two workers: deepstream's endpoint (guarded by a
 * header, reset on read), Prometheus' /metrics, and the live page drawn in
 * headless Chromium.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chromiumMissing, closeClients, connect, DEFAULT_KIND, eventually, launchChromium, startInProcessServer, startTestServer, workerPort, type TestServer } from './helpers.js'

const KEY = { 'deepstream-password': 'a-secret-of-this-test' }

describe('http monitoring across workers', () => {
  let server: TestServer
  beforeAll(async () => { server = await startTestServer({ monitoring: { type: 'http', options: { headerValue: 'a-secret-of-this-test' } } }, DEFAULT_KIND, process.cwd(), 2) })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  const get = (path: string, headers: Record<string, string> = KEY): Promise<Response> => fetch(`http://127.0.0.1:${server.port}${path}`, { headers })

  /**
   * Emits between a client on each worker; resolves with the number of emits once the server has
   * handled every one: each client has heard the other's last emit, and one publisher's emits are
   * handled in order.
   */
  async function traffic (): Promise<number> {
    const a = await connect(workerPort(server, 0))
    const b = await connect(workerPort(server, 1))
    const heard = { a: [] as unknown[], b: [] as unknown[] }
    a.event.subscribe('ticks', (data: unknown) => heard.a.push(data))
    b.event.subscribe('ticks', (data: unknown) => heard.b.push(data))
    let emitted = 0
    // The stock client also hands an emit to its own subscribers: each tags what it sends.
    const emit = (from: typeof a, data: string): void => { from.event.emit('ticks', `${from === a ? 'a' : 'b'}:${data}`); emitted++ }
    // Both subscriptions are live once each client hears the other through the server.
    await eventually(() => {
      emit(a, 'warm')
      emit(b, 'warm')
      expect(heard.a).toContain('b:warm')
      expect(heard.b).toContain('a:warm')
    })
    for (let i = 0; i < 20; i++) emit(a, String(i))
    for (let i = 0; i < 10; i++) emit(b, String(i))
    emit(a, 'last')
    emit(b, 'last')
    await eventually(() => {
      expect(heard.a).toContain('b:last')
      expect(heard.b).toContain('a:last')
    })
    return emitted
  }

  it('answers deepstream\'s endpoint with counts from every worker, only with the key, and resets on read', async () => {
    expect((await get('/monitoring', {})).status).toBe(404)
    const emitted = await traffic()
    const first = await (await get('/monitoring')).json() as Record<string, any>
    expect(first.clusterSize).toBe(2)
    expect(first.received['4/2']).toBe(emitted)
    expect(first.connections).toHaveLength(2)
    expect(first.connections[0]).toBeGreaterThan(0)
    expect(first.connections[1]).toBeGreaterThan(0)
    expect(first.logins['ws-binary'].allowed).toBeGreaterThanOrEqual(2)
    expect(first.handlingMicros.EVENT.count).toBeGreaterThanOrEqual(emitted)
    expect(first.deliveryMicros.EVENT.count).toBeGreaterThanOrEqual(30)
    expect(first.deliveryMicros.EVENT.p99).toBeGreaterThan(0)
    const second = await (await get('/monitoring')).json() as Record<string, any>
    expect(second.received['4/2']).toBeUndefined()
    expect(second.from).toBeGreaterThanOrEqual(first.to)
    expect(second.from).toBeLessThan(second.to + 1)
  })

  it('serves /metrics in Prometheus text format, cumulative over every worker', async () => {
    const emitted = await traffic()
    const text = await (await get('/metrics')).text()
    expect(text).toContain('# TYPE riptide_messages_received_total counter')
    const emits = /riptide_messages_received_total\{topic="EVENT",action="EMIT"\} (\d+)/.exec(text)
    expect(Number(emits?.[1])).toBeGreaterThanOrEqual(emitted)
    expect(text).toMatch(/riptide_connections\{worker="0"\} \d+\nriptide_connections\{worker="1"\} \d+/)
    expect(text).toMatch(/riptide_delivery_microseconds\{topic="EVENT",quantile="0.99"\} \d+/)
    expect(text).toMatch(/riptide_handling_microseconds_count\{topic="EVENT"\} \d+/)
    expect((await get('/metrics', {})).status).toBe(404)
  })

  it.skipIf(chromiumMissing !== '')(`draws live throughput and latency in a browser${chromiumMissing}`, async () => {
    const browser = await launchChromium()
    try {
      const page = await browser.newPage()
      await page.goto(`http://127.0.0.1:${server.port}/monitoring/live?key=a-secret-of-this-test&interval=200`)
      const client = await connect(workerPort(server, 0))
      const stop = setInterval(() => client.event.emit('live', 1), 10)
      try {
        // The page samples from the moment it loads, so its first points may all predate the client's
        // login: wait for a sample that saw the emits, not only for the points.
        await eventually(async () => {
          const points = await page.locator('#throughput').getAttribute('data-points')
          expect(Number(points)).toBeGreaterThanOrEqual(5)
          expect(Number(await page.locator('#in').textContent())).toBeGreaterThan(0)
        }, 10_000)
      } finally {
        clearInterval(stop)
      }
      // The canvas holds drawn pixels, not just a blank surface.
      const inked = await page.evaluate(() => {
        const canvas = document.getElementById('throughput') as HTMLCanvasElement
        const pixels = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray()
        let count = 0
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count++
        return count
      })
      expect(inked).toBeGreaterThan(100)
    } finally {
      await browser.close()
    }
  }, 30_000)
})

describe('http monitoring without a secret', () => {
  it('refuses to start, naming the key, unless allowOpenPermissions says the endpoints are open', async () => {
    await expect(startInProcessServer({ monitoring: { type: 'http' } })).rejects.toThrow(/headerValue: is required/)
    const open = await startInProcessServer({ monitoring: { type: 'http', options: { allowOpenPermissions: true } } })
    try {
      expect((await fetch(`http://127.0.0.1:${open.port}/monitoring`)).status).toBe(200)
    } finally {
      await open.close()
    }
  })
})

/**
 * riptide/client in a real browser (Debian's chromium through
 * playwright-core): the built client, loaded as ES modules with an import
 * map for flatbuffers, talks to the real server next to a Node client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join, normalize } from 'node:path'
import { RiptideClient } from '../src/client/index.js'
import { PACKAGE_ROOT } from '../src/native-adapters/compiled-module.js'
import { chromiumMissing, eventually, launchChromium, startTestServer, url, type TestServer } from './helpers.js'

const PAGE = `<!doctype html>
<script type="importmap">{ "imports": { "flatbuffers": "/node_modules/flatbuffers/mjs/index.js" } }</script>
<script type="module">
  import { RiptideClient } from '/dist/src/client/index.js'
  const log = (entry) => { window.results.push(entry) }
  window.results = []
  const client = new RiptideClient(new URLSearchParams(location.search).get('server'))
  await client.login({ username: 'browser' })
  await client.event.subscribe('to-browser', (data) => log({ event: data instanceof Uint8Array ? [...data] : data }))
  await client.rpc.provide('browser-square', (n) => n * n)
  const record = await client.record.get('browser/record')
  await record.set({ from: 'browser' })
  log({ record: [record.version, record.data] })
  client.event.emit('from-browser', new Uint8Array([9, 8, 7]))
  log({ ready: true })
</script>`

/** Serves the page, the built client and flatbuffers' ES modules; nothing else. */
function staticServer (): Promise<Server> {
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://x').pathname)
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
      return
    }
    const allowed = path.startsWith('/dist/src/') || path.startsWith('/node_modules/flatbuffers/mjs/')
    const file = join(PACKAGE_ROOT, path)
    if (!allowed || !path.endsWith('.js') || !existsSync(file)) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file))
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

describe('riptide/client in a browser', () => {
  let server: TestServer
  let pages: Server
  beforeAll(async () => {
    server = await startTestServer()
    pages = await staticServer()
  })
  afterAll(async () => {
    await new Promise((resolve) => pages.close(resolve))
    await server.close()
  })

  it.skipIf(chromiumMissing !== '')(`logs in, writes a record, serves an RPC and exchanges events and bytes with a Node client${chromiumMissing}`, async () => {
    const browser = await launchChromium()
    const node = new RiptideClient(url(server, '/riptide'))
    try {
      await node.login({ username: 'node' })
      const fromBrowser: unknown[] = []
      await node.event.subscribe('from-browser', (data) => fromBrowser.push(data))
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      const { port: pagesPort } = pages.address() as { port: number }
      await page.goto(`http://127.0.0.1:${pagesPort}/?server=${encodeURIComponent(url(server, '/riptide'))}`)
      const results = async (): Promise<Array<Record<string, unknown>>> => page.evaluate(() => (window as unknown as { results?: Array<Record<string, unknown>> }).results ?? [])
      await eventually(async () => expect(await results()).toContainEqual({ ready: true }), 10_000)
      expect(errors).toEqual([])
      expect(await results()).toContainEqual({ record: [1, { from: 'browser' }] })
      expect(await node.record.snapshot('browser/record')).toEqual({ version: 1, data: { from: 'browser' } })
      expect(await node.rpc.make('browser-square', 12)).toBe(144)
      await eventually(() => expect(fromBrowser.map((data) => [...(data as Uint8Array)])).toEqual([[9, 8, 7]]))
      node.event.emit('to-browser', { hello: 'browser' })
      node.event.emit('to-browser', new Uint8Array([1, 2]))
      await eventually(async () => expect(await results()).toEqual(expect.arrayContaining([{ event: { hello: 'browser' } }, { event: [1, 2] }])))
    } finally {
      node.close()
      await browser.close()
    }
  }, 30_000)
})

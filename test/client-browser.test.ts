/**
 * riptide/client in a real browser (Debian's chromium through
 * playwright-core): the built client, loaded as ES modules with an import
 * map for flatbuffers, talks to the real server next to a Node client. Its
 * DeepstreamClient runs the same app code as ES modules and as the browser
 * bundle an app's bundler makes (esbuild), beside a stock @deepstream/client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join, normalize } from 'node:path'
import { RiptideClient } from '../src/client/index.js'
import { PACKAGE_ROOT } from '../src/native-adapters/compiled-module.js'
import { bundleClient } from '../bench/lib/client-bundle.js'
import { chromiumMissing, connect, closeClients, eventually, launchChromium, startTestServer, url, type TestServer } from './helpers.js'

/**
 * A page running `app` as a module after importing `client` from `from`; the app logs into
 * `window.results` with `log`, and `client` is made for the server the page's query names.
 */
const page = (client: string, from: string, app: string): string => `<!doctype html>
<script type="importmap">{ "imports": { "flatbuffers": "/node_modules/flatbuffers/mjs/index.js" } }</script>
<script type="module">
  import { ${client} } from '${from}'
  const log = (entry) => { window.results.push(entry) }
  window.results = []
  const client = new ${client}(new URLSearchParams(location.search).get('server'))
  await client.login({ username: 'browser' })
${app}
  log({ ready: true })
</script>`

const PAGE = page('RiptideClient', '/dist/src/client/index.js', `
  await client.event.subscribe('to-browser', (data) => log({ event: data instanceof Uint8Array ? [...data] : data }))
  await client.rpc.provide('browser-square', (n) => n * n)
  const record = await client.record.get('browser/record')
  await record.set({ from: 'browser' })
  log({ record: [record.version, record.data] })
  client.event.emit('from-browser', new Uint8Array([9, 8, 7]))`)

/** The same app code with @deepstream/client's API, given where DeepstreamClient comes from. */
const compatPage = (from: string): string => page('DeepstreamClient', from, `
  client.event.subscribe('to-compat', (data) => log({ event: data }))
  client.rpc.provide('compat-square', (n, response) => response.send(n * n))
  const record = client.record.getRecord('browser/compat')
  await record.whenReady()
  record.subscribe('from', (value) => log({ from: value }))
  await record.setWithAck({ from: 'browser', via: '${from}' })
  client.event.emit('from-compat', { via: '${from}' })`)

/** Serves the pages, the built client, its bundle and flatbuffers' ES modules; nothing else. */
function staticServer (bundle: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://x').pathname)
    const page = { '/': PAGE, '/compat-modules': compatPage('/dist/src/client/index.js'), '/compat-bundle': compatPage('/bundle.js') }[path]
    if (page !== undefined) {
      response.writeHead(200, { 'content-type': 'text/html' }).end(page)
      return
    }
    if (path === '/bundle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
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
    pages = await staticServer((await bundleClient('riptide')).code)
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

  it.skipIf(chromiumMissing !== '').each(['compat-modules', 'compat-bundle'])(`runs a record, an event and an RPC through DeepstreamClient (%s) beside a stock @deepstream/client${chromiumMissing}`, async (page) => {
    const browser = await launchChromium()
    try {
      const stock = await connect(server)
      const fromBrowser: unknown[] = []
      stock.event.subscribe('from-compat', (data: unknown) => fromBrowser.push(data))
      const tab = await browser.newPage()
      const errors: string[] = []
      tab.on('pageerror', (error) => errors.push(error.message))
      const { port: pagesPort } = pages.address() as { port: number }
      await tab.goto(`http://127.0.0.1:${pagesPort}/${page}?server=${encodeURIComponent(url(server, '/riptide'))}`)
      const results = async (): Promise<Array<Record<string, unknown>>> => tab.evaluate(() => (window as unknown as { results?: Array<Record<string, unknown>> }).results ?? [])
      await eventually(async () => expect(await results()).toContainEqual({ ready: true }), 10_000)
      expect(errors).toEqual([])
      const via = page === 'compat-bundle' ? '/bundle.js' : '/dist/src/client/index.js'
      expect(await stock.record.snapshot('browser/compat')).toEqual({ from: 'browser', via })
      await eventually(() => expect(fromBrowser).toEqual([{ via }]))
      expect(await stock.rpc.make('compat-square', 12)).toBe(144)
      await stock.record.setDataWithAck('browser/compat', 'from', 'node')
      stock.event.emit('to-compat', { hello: 'browser' })
      await eventually(async () => expect(await results()).toEqual(expect.arrayContaining([{ from: 'node' }, { event: { hello: 'browser' } }])))
    } finally {
      closeClients()
      await browser.close()
    }
  }, 30_000)
})

/** The plugins in examples/, loaded from the built output exactly as a config would load them. */
import { afterEach, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { closeClients, connect, eventually, startTestServer } from './helpers.js'
import { startServer, validateConfig, type RiptideServer } from '../src/index.js'

const dist = resolve('dist/examples')
let server: RiptideServer | null = null
let hook: Server | null = null
afterEach(async () => {
  closeClients()
  await server?.close()
  server = null
  await new Promise<void>((done) => (hook === null ? done() : hook.close(() => done())))
  hook = null
})

describe('example plugins', () => {
  it('login webhook: posts logins and logouts, and kicks a user through HTTP', async () => {
    const events: Array<{ type: string, userId: string }> = []
    hook = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => { body += c.toString() })
      req.on('end', () => { events.push(JSON.parse(body)); res.end() })
    })
    await new Promise<void>((done) => hook?.listen(0, '127.0.0.1', () => done()))
    const address = hook.address() as { port: number }
    server = await startTestServer({
      plugins: { webhook: { path: join(dist, 'login-webhook-plugin.js'), options: { url: `http://127.0.0.1:${address.port}/`, adminToken: 't0ken' } } },
    })
    const client = await connect(server, { username: 'eve' })
    await eventually(() => expect(events).toEqual([expect.objectContaining({ type: 'login', userId: 'eve' })]))
    const denied = await fetch(`http://127.0.0.1:${server.port}/admin/kick`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"eve"}' })
    expect(denied.status).toBe(403)
    const kicked = await fetch(`http://127.0.0.1:${server.port}/admin/kick`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-admin-token': 't0ken' }, body: '{"userId":"eve"}' })
    expect(await kicked.json()).toEqual({ closed: 1 })
    await eventually(() => expect(events.map((e) => e.type)).toEqual(['login', 'logout']))
    await eventually(() => expect(client.getConnectionState()).not.toBe('OPEN'))
  })

  it('buffered logger: writes nothing until an error, then the lines before it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'riptide-log-')), 'errors.log')
    const { config, warnings } = validateConfig({
      logger: { path: join(dist, 'buffered-logger.js'), options: { file, size: 10 } },
      httpServer: { options: { host: '127.0.0.1', port: 0 } },
    }, 'test')
    server = await startServer({ config, file: null, configDir: process.cwd(), warnings })
    expect(existsSync(file)).toBe(false)
    server.services.logger.error('TEST_ERROR', 'something broke')
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string })
    expect(lines.at(-1)?.event).toBe('TEST_ERROR')
    expect(lines.some((l) => l.event === 'SERVER_STARTED')).toBe(true)
  })
})

describe('example permission plugin', () => {
  it('lets users touch only names that contain their id, as a whole segment', async () => {
    const plugin = join(dist, 'owner-permission-plugin.js')
    expect(existsSync(plugin)).toBe(true)
    const owned = await startTestServer({ auth: [{ type: 'none' }], permission: { path: plugin } })
    try {
      const ada = await connect(owned, { username: 'ada' })
      await ada.record.setDataWithAck('todos/ada/1', { done: false })
      await expect(ada.record.setDataWithAck('todos/adam/1', { done: true })).rejects.toBe('MESSAGE_DENIED')
      await expect(ada.record.setDataWithAck('todos/bob/1', { done: true })).rejects.toBe('MESSAGE_DENIED')
      expect(await ada.record.snapshot('todos/ada/1')).toEqual({ done: false })
    } finally {
      await owned.close()
    }
  })
})

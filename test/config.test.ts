import { afterEach, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { DeepstreamClient } from '@deepstream/client'
import { loadConfigFile, startServer, validateConfig, type RiptideServer } from '../src/index.js'
import { PinoLogger } from '../src/native-free-core/plugins/logger/pino-logger.js'
import { nodeHasReusePort } from '../src/native-adapters/http/node-server.js'
import { killChildren, makeTempDir, removeTempDirs, spawnServer } from './helpers.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const silent = (): PinoLogger => new PinoLogger({ level: 'off' })
let server: RiptideServer | null = null
afterEach(async () => { await server?.close(); server = null })

describe('start-up', () => {
  afterEach(async () => {
    await killChildren()
    removeTempDirs()
  })

  it('refuses to serve on the uWebSockets.js JS fallback when httpServer.type is uws, naming the error', () => {
    const dir = makeTempDir()
    const file = join(dir, 'config.yml')
    writeFileSync(file, 'httpServer:\n  type: uws\n')
    const cli = fileURLToPath(new URL('../dist/src/main/cli.js', import.meta.url))
    const result = spawnSync(process.execPath, [cli, 'start', '--config', file, '--host', '127.0.0.1', '--port', '0'], { env: { ...process.env, UWS_USE_FALLBACK: '1' }, encoding: 'utf8', timeout: 15000 })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('RT_UWS_FALLBACK')
    expect(result.stderr).toContain(`Node ${process.versions.node}`)
  })

  it('serves on Node http + ws where uWS has no native binary, on every worker where Node can share the port, and says so', async () => {
    const dir = makeTempDir()
    const file = join(dir, 'config.yml')
    writeFileSync(file, `storage:\n  type: none\ncache:\n  type: lmdb\n  options:\n    path: ${JSON.stringify(join(dir, 'data'))}\n`)
    // The npm build's own switch: it loads its JS fallback as it does on a Node it has no binary for.
    const server = await spawnServer(file, ['--workers', 'auto'], dir, { ...process.env, UWS_USE_FALLBACK: '1' })
    expect(server.startOutput).toContain('UWS_UNAVAILABLE')
    expect(server.startOutput).toContain('(node http + ws)')
    const workers = Number(/ready: (\d+) workers?/.exec(server.startOutput)?.[1])
    expect(workers).toBe(nodeHasReusePort() ? availableParallelism() : 1)
    if (!nodeHasReusePort()) expect(server.startOutput).toContain('ONE_WORKER')
    const client = new DeepstreamClient(`ws://127.0.0.1:${server.port}/deepstream`)
    try {
      await client.login({})
      await client.record.setDataWithAck('fallback/a', { ok: true })
      expect(await client.record.snapshot('fallback/a')).toEqual({ ok: true })
    } finally {
      client.close()
    }
  })
})

describe('config', () => {
  it('starts from a deepstream-style file with ${ENV}, file() and fileLoad(), and loads a custom plugin', async () => {
    const loaded = loadConfigFile(join(fixtures, 'config.yml'), { RIPTIDE_TEST_NAME: 'node-a', RIPTIDE_TEST_ACK: '750' })
    expect(loaded.config.serverName).toBe('node-a')
    expect(loaded.config.rpc.ackTimeout).toBe(750)
    expect(loaded.warnings).toEqual([expect.stringContaining('"showLogo" is not supported')])
    server = await startServer(loaded, { logger: silent() })
    expect(await (await fetch(`http://127.0.0.1:${server.port}/marker`)).text()).toBe('hello')
    const changed = await fetch(`http://127.0.0.1:${server.port}/marker/ack-timeout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ms":1234}' })
    expect(await changed.text()).toBe('1234')
    // The run-time value changes; the config stays as loaded.
    expect(server.services.timeouts.get('rpc.ackTimeout')).toBe(1234)
    expect(server.services.config.rpc.ackTimeout).toBe(750)
    const client = new DeepstreamClient(`ws://127.0.0.1:${server.port}/deepstream`, { offlineEnabled: false })
    expect(await client.login({ username: 'alice', password: 'wonderland' })).toEqual({ color: 'blue' })
    client.close()
  })

  it('runs deepstream 7\'s own conf/config.yml with its users.yml and permissions.yml unmodified', async () => {
    const require = createRequire(import.meta.url)
    const file = join(dirname(require.resolve('@deepstream/server/package.json')), 'conf', 'config.yml')
    const loaded = loadConfigFile(file)
    expect(loaded.config.httpServer.options.port).toBe(6020)
    loaded.config.httpServer.options.host = '127.0.0.1'
    loaded.config.httpServer.options.port = 0
    server = await startServer(loaded, { logger: silent() })
    const client = new DeepstreamClient(`ws://127.0.0.1:${server.port}/deepstream`, { offlineEnabled: false })
    await client.login({})
    const record = client.record.getRecord('from-deepstream-config')
    await record.whenReady()
    await record.setWithAck({ ok: true })
    expect(await client.record.snapshot('from-deepstream-config')).toEqual({ ok: true })
    client.close()
  })

  it('warns once for an unknown key and fails on a wrong type, naming the key and the file', () => {
    const { warnings } = validateConfig({ record: { cacheRetrievalTimeout: 5, shinyNewOption: true }, mystery: 1 }, 'app.yml')
    expect(warnings).toEqual(expect.arrayContaining([
      'app.yml: key "record.shinyNewOption" is not supported and is ignored',
      'app.yml: key "mystery" is not supported and is ignored',
    ]))
    expect(() => validateConfig({ rpc: { ackTimeout: 'soon' } }, 'app.yml')).toThrow(/app\.yml.*"rpc\.ackTimeout"/)
    expect(() => validateConfig({ connectionEndpoints: [{ type: 'ws-binary', options: { maxAuthAttempts: -1 } }] }, 'app.yml')).toThrow(/connectionEndpoints\.0/)
  })

  it('refuses to start when a plugin cannot be found or never becomes ready', async () => {
    const { config } = validateConfig({ cache: { path: './does-not-exist.mjs' }, httpServer: { options: { port: 0 } } }, 't')
    await expect(startServer({ config, file: null, configDir: fixtures, warnings: [] }, { logger: silent() })).rejects.toMatchObject({ code: 'RT_PLUGIN_NOT_FOUND' })
    const slow = validateConfig({ dependencyInitializationTimeout: 50, plugins: { slow: { path: 'slow-plugin.mjs' } }, httpServer: { options: { port: 0 } } }, 't').config
    await expect(startServer({ config: slow, file: null, configDir: fixtures, warnings: [] }, { logger: silent() })).rejects.toMatchObject({ code: 'RT_PLUGIN_INIT_TIMEOUT' })
  })
})

/**
 * The two servers a differential test compares, started from one deepstream 7 config folder
 * (config.yml with file auth and Valve permissions, users.yml, permissions.yml):
 * `@deepstream/server` 7.0.2 in a child process through its own CLI, and riptide through its
 * supervisor with TEST_WORKERS workers. Both listen on 127.0.0.1.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hashPassword, loadConfigFile } from '../../src/index.js'
import { Supervisor } from '../../src/main/supervisor.js'
import { freePort } from '../../src/native-adapters/http/free-port.js'
import { PACKAGE_ROOT } from '../../src/native-adapters/compiled-module.js'
import { PinoLogger } from '../../src/native-free-core/plugins/logger/pino-logger.js'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { closeWireClients } from './wire.js'
import { makeTempDir, removeTempDirs, TEST_WORKERS } from '../helpers.js'

export type PeerName = 'deepstream' | 'riptide'

export interface Peer {
  readonly name: PeerName
  readonly port: number
  close (): Promise<void>
}

export const USERS = {
  ada: { password: 'ada-pw', clientData: { team: 'red' }, serverData: { role: 'admin' } },
  bob: { password: 'bob-pw', clientData: { team: 'blue' }, serverData: { role: 'user' } },
  cat: { password: 'cat-pw', serverData: { role: 'user' } },
}

/** Valve rules with an allowed and a denied name for every action. */
const PERMISSIONS = `
record:
  "*": { create: true, write: true, read: true, delete: true, listen: true, notify: true }
  "denied/*": { create: false, write: false, read: false, delete: false, listen: false, notify: false }
  "readonly/*": { create: true, write: false, read: true, delete: false, listen: true, notify: true }
  "owned/$user": { write: "user.id === $user" }
  "adamade/*": { create: "user.id === 'ada'", write: true, read: true }
event:
  "*": { publish: true, subscribe: true, listen: true }
  "denied/*": { publish: false, subscribe: false, listen: false }
  "small/*": { publish: "typeof data.n === 'number' && data.n < 10" }
rpc:
  "*": { provide: true, request: true }
  "denied/*": { provide: false, request: false }
presence:
  "*": { allow: "user.id !== 'cat'" }
`

/** Auth data that logs each user in. */
export const ADA = { username: 'ada', password: USERS.ada.password }
export const BOB = { username: 'bob', password: USERS.bob.password }
export const CAT = { username: 'cat', password: USERS.cat.password }

const HASH = { hash: 'md5', iterations: 100, keyLength: 32 }

/** What a test file may change in the shared config. */
export interface PeerSettings {
  /** ws-binary's unauthenticatedClientTimeout, ms (default deepstream's 180000). */
  readonly unauthenticatedClientTimeout?: number
  /** YAML appended to config.yml: top-level keys the base config does not set (`cache: …`). */
  readonly extraConfig?: string
}

/**
 * Writes the shared config folder; `deepstreamPort` is only read by deepstream (riptide listens on
 * port 0). Passwords are stored in deepstream's pbkdf2 format (deepstream 7 requires a hash).
 */
export async function writeConfigFolder (dir: string, deepstreamPort: number, settings: PeerSettings = {}): Promise<string> {
  const lines = await Promise.all(Object.entries(USERS).map(async ([name, user]) => `${name}: ${JSON.stringify({ ...user, password: await hashPassword(user.password, HASH) })}`))
  const users = lines.join('\n')
  writeFileSync(join(dir, 'users.yml'), `${users}\n`)
  writeFileSync(join(dir, 'permissions.yml'), PERMISSIONS)
  writeFileSync(join(dir, 'config.yml'), `
serverName: differential
showLogo: false
logLevel: OFF
telemetry: { type: deepstreamIO, options: { enabled: false } }
rpc: { ackTimeout: 300, responseTimeout: 600, provideRequestorName: true, provideRequestorData: true }
record: { storageHotPathPrefixes: [hot/] }
listen: { responseTimeout: 300 }
httpServer: { type: default, options: { host: 127.0.0.1, port: ${deepstreamPort} } }
connectionEndpoints:
  - type: ws-binary
    options: { urlPath: /deepstream, maxAuthAttempts: 3, unauthenticatedClientTimeout: ${settings.unauthenticatedClientTimeout ?? 180000} }
  - type: ws-json
    options: { urlPath: /deepstream-json, maxAuthAttempts: 3, unauthenticatedClientTimeout: ${settings.unauthenticatedClientTimeout ?? 180000} }
  - type: http
    options: { allowAuthData: true, enableAuthEndpoint: false, postPath: /api, getPath: /api, requestTimeout: 1500 }
auth:
  - type: file
    options: { users: fileLoad(users.yml), hash: ${HASH.hash}, iterations: ${HASH.iterations}, keyLength: ${HASH.keyLength} }
permission:
  type: config
  options: { permissions: fileLoad(permissions.yml) }
${settings.extraConfig ?? ''}
`)
  return join(dir, 'config.yml')
}

export async function startDeepstream (dir: string, settings: PeerSettings = {}): Promise<Peer> {
  const port = await freePort()
  const config = await writeConfigFolder(dir, port, settings)
  const bin = join(PACKAGE_ROOT, 'node_modules', '@deepstream', 'server', 'dist', 'bin', 'deepstream')
  const child = spawn(process.execPath, [bin, 'start', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let gone = false
  void exited.then(() => { gone = true })
  for (const deadline = Date.now() + 15_000; ;) {
    if (gone) throw new Error(`deepstream exited before listening:\n${output}`)
    if (await fetch(`http://127.0.0.1:${port}/health-check`).then((r) => r.ok, () => false)) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`deepstream did not listen within 15 s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    name: 'deepstream',
    port,
    close: async () => {
      if (!gone) child.kill('SIGKILL')
      await exited
    },
  }
}

export async function startRiptide (dir: string, settings: PeerSettings = {}): Promise<Peer> {
  const loaded = loadConfigFile(await writeConfigFolder(dir, 0, settings))
  loaded.config.httpServer.options.port = 0
  const supervisor = await Supervisor.start({ ...loaded, warnings: [] }, {
    workers: TEST_WORKERS === 0 ? 1 : TEST_WORKERS,
    logger: new PinoLogger({ level: 'off' }),
    ownPorts: false,
  })
  return { name: 'riptide', port: supervisor.port, close: () => supervisor.close() }
}

/** Both peers for one test file: started before its tests, closed after them; clients are closed after each test. */
export function usePeers (settings: PeerSettings = {}): { deepstream: Peer, riptide: Peer } {
  const peers = {} as { deepstream: Peer, riptide: Peer }
  afterEach(() => closeWireClients())
  beforeAll(async () => {
    [peers.deepstream, peers.riptide] = await Promise.all([startDeepstream(makeTempDir(), settings), startRiptide(makeTempDir(), settings)])
  })
  afterAll(async () => {
    await Promise.all([peers.deepstream?.close(), peers.riptide?.close()])
    removeTempDirs()
  })
  return peers
}

import { DeepstreamClient } from '@deepstream/client'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { spawnServer as spawnChild, stopServer, type ChildServer } from '../bench/lib/child-server.js'
import { startServer, validateConfig, type RiptideServer, type HttpServerKind } from '../src/index.js'
import { PinoLogger } from '../src/native-free-core/plugins/logger/pino-logger.js'
import { Supervisor } from '../src/main/supervisor.js'
import { chooseHttpServer } from '../src/native-adapters/native-server.js'
import { nodeHasReusePort } from '../src/native-adapters/http/node-server.js'
import { DeepstreamClient as CompatClient } from '../src/client/index.js'

/** Whether uWebSockets.js's native binary loads on this Node (the npm build has Node 20's only). */
export const NATIVE_UWS = chooseHttpServer('default').kind === 'uws'
/** The HTTP servers the endpoint tests run on: both on Node 20, Node http + ws elsewhere. */
export const KINDS: HttpServerKind[] = NATIVE_UWS ? ['uws', 'node'] : ['node']
/** The server of tests that are not about the HTTP server: the one `httpServer.type: default` gets. */
export const DEFAULT_KIND: HttpServerKind = KINDS[0]
/** Whether Node http + ws can serve several workers on one port here (Node 22.12 and later). */
const NODE_SHARES_PORT = nodeHasReusePort()

/**
 * How tests run the server: `RIPTIDE_TEST_WORKERS=N` (default 1) starts the
 * real supervisor with N worker threads (1 for the `node` kind on Node 20,
 * which cannot share a port); `0` runs it in the test's own thread.
 */
export const TEST_WORKERS = Number(process.env.RIPTIDE_TEST_WORKERS ?? 1)

/** A running test server, in this thread or on worker threads. */
export interface TestServer {
  readonly port: number
  /** The supervisor, when the server runs on worker threads. */
  readonly supervisor: Supervisor | null
  close (): Promise<void>
}

function testConfig (config: Record<string, unknown>, kind: HttpServerKind): Record<string, unknown> {
  const httpServer = (config.httpServer ?? {}) as Record<string, unknown>
  return {
    logLevel: process.env.RIPTIDE_TEST_LOG === '1' ? 'ERROR' : 'OFF',
    // RIPTIDE_TEST_RUNNER=threads runs the suite on plain worker threads instead of Piscina.
    ...(process.env.RIPTIDE_TEST_RUNNER === undefined ? {} : { workerRunner: process.env.RIPTIDE_TEST_RUNNER }),
    ...config,
    httpServer: { ...httpServer, type: kind === 'node' ? 'node' : 'uws', options: { ...(httpServer.options as object ?? {}), host: '127.0.0.1', port: 0 } },
  }
}

/** Starts a real server in this thread on 127.0.0.1, port 0: for tests that look inside it (`services`). */
export async function startInProcessServer (config: Record<string, unknown> = {}, kind: HttpServerKind = DEFAULT_KIND, configDir = process.cwd()): Promise<RiptideServer> {
  const { config: parsed, warnings } = validateConfig(testConfig(config, kind), 'test config')
  return startServer({ config: parsed, file: null, configDir, warnings }, { logger: new PinoLogger({ level: 'off' }) })
}

/** Starts a real server on 127.0.0.1, port 0, with the given config on top of the defaults, as TEST_WORKERS says. */
export async function startTestServer (config: Record<string, unknown> = {}, kind: HttpServerKind = DEFAULT_KIND, configDir = process.cwd(), workers = TEST_WORKERS): Promise<TestServer> {
  if (workers === 0) {
    const server = await startInProcessServer(config, kind, configDir)
    return { port: server.port, supervisor: null, close: () => server.close() }
  }
  const { config: parsed, warnings } = validateConfig(testConfig(config, kind), 'test config')
  const supervisor = await Supervisor.start({ config: parsed, file: null, configDir, warnings }, {
    workers: kind === 'node' && !NODE_SHARES_PORT ? 1 : workers,
    logger: new PinoLogger({ level: process.env.RIPTIDE_TEST_LOG === '1' ? 'error' : 'off' }),
    ownPorts: true,
  })
  return { port: supervisor.port, supervisor, close: () => supervisor.close() }
}

/**
 * One place for clients whose test is about a single node's behaviour (the
 * order in which its providers are tried): worker 0 when the server has
 * several, the server itself otherwise. workers.test.ts covers the paths
 * between workers.
 */
export function oneWorker (server: TestServer): Reachable {
  const port = server.supervisor?.ownPorts[0]
  return port === undefined || port === 0 ? server : { port }
}

/** A port that reaches worker `index` only (multi-worker test servers). */
export function workerPort (server: TestServer, index: number): Reachable {
  const port = server.supervisor?.ownPorts[index]
  if (port === undefined || port === 0) throw new Error(`the test server has no worker ${index} of its own`)
  return { port }
}

export type { ChildServer }

/** Anything with a port: an in-process server or a child-process one. */
export type Reachable = Pick<RiptideServer, 'port'>

export function url (server: Reachable, path = '/deepstream'): string {
  return `ws://127.0.0.1:${server.port}${path}`
}

const clients: DeepstreamClient[] = []

/** A logged-in @deepstream/client; closed by closeClients(). */
export async function connect (server: Reachable, auth: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Promise<DeepstreamClient> {
  const client = new DeepstreamClient(url(server), { offlineEnabled: false, maxReconnectAttempts: 0, recordDiscardTimeout: 0, ...options })
  client.on('error', () => {})
  clients.push(client)
  await client.login(auth)
  return client
}

/**
 * The clients an app may use with riptide's API of @deepstream/client: `deepstream` is
 * @deepstream/client 7 itself over protobuf (/deepstream), `compat` riptide/client's
 * DeepstreamClient over the native protocol (/riptide). Tests of what both offer run with each.
 */
export const CLIENTS = ['deepstream', 'compat'] as const
export type ClientKind = typeof CLIENTS[number]

/** A logged-in client of `kind`, typed as @deepstream/client for the tests' shared code; closed by closeClients(). */
export async function connectWith (kind: ClientKind, server: Reachable, auth: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Promise<DeepstreamClient> {
  if (kind === 'deepstream') return connect(server, auth, options)
  const client = new CompatClient(url(server, '/riptide'), { maxReconnectAttempts: 0, ...options })
  client.on('error', () => {})
  clients.push(client as unknown as DeepstreamClient)
  await client.login(auth)
  return client as unknown as DeepstreamClient
}

export function closeClients (): void {
  for (const client of clients.splice(0)) client.close()
}

/** Resolves when `check` passes, polling every 10 ms; fails after `ms`. */
export async function eventually (check: () => void | Promise<void>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}

const tempDirs: string[] = []

/** A fresh directory under the OS temp folder; removed by removeTempDirs(). */
export function makeTempDir (prefix = 'riptide-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

export function removeTempDirs (): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

import WebSocket from 'ws'
import { encodeProtobuf, decodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'
import type { Message } from '../src/index.js'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

/** A raw protobuf WebSocket client, for frames the stock client cannot produce. */
export class RawClient {
  readonly received: Message[] = []
  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.received.push(decodeProtobuf(new Uint8Array(data)))
    })
  }

  static async open (server: Reachable, path = '/deepstream', headers: Record<string, string> = {}): Promise<RawClient> {
    const ws = new WebSocket(url(server, path), { headers })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return new RawClient(ws)
  }

  /** Opens (with extra upgrade `headers`), challenges and logs in. */
  static async login (server: Reachable, auth: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<RawClient> {
    const raw = await RawClient.open(server, '/deepstream', headers)
    raw.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: url(server) })
    await raw.next((m) => m.action === CONNECTION_ACTION.ACCEPT)
    raw.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: JSON.stringify(auth) })
    await raw.next((m) => m.topic === TOPIC.AUTH)
    return raw
  }

  send (message: Message): void { this.ws.send(encodeProtobuf(message)) }

  /** The first received message (consumed) that matches, waiting up to `ms`. */
  async next (match: (m: Message) => boolean, ms = 3000): Promise<Message> {
    const deadline = Date.now() + ms
    for (;;) {
      const index = this.received.findIndex(match)
      if (index >= 0) return this.received.splice(index, 1)[0]
      if (Date.now() > deadline) throw new Error(`no matching message; received ${JSON.stringify(this.received)}`)
      await sleep(5)
    }
  }

  closed (): Promise<number> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) resolve(1006)
      else this.ws.once('close', (code: number) => resolve(code))
    })
  }

  close (): void { this.ws.terminate() }
}

const children: ChildServer[] = []

/** `riptide start --config <file>` (none when null) in a child process (see bench/lib/child-server.ts); killed by killChildren(). */
export async function spawnServer (configFile: string | null, args: string[] = [], cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<ChildServer> {
  const child = await spawnChild(configFile, args, cwd, [], env)
  children.push(child)
  return child
}

/** Kills every child server still running. */
export async function killChildren (): Promise<void> {
  await Promise.all(children.splice(0).map((child) => stopServer(child, 'SIGKILL')))
}

/** The `chromium` the shell would run (as `.ci/run` looks for it with `command -v`), or null. */
const CHROMIUM = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium')).find((file) => existsSync(file)) ?? null

/** Empty when a chromium is on the PATH (Debian's package); otherwise the reason a browser test is skipped, for its title. */
export const chromiumMissing = CHROMIUM !== null ? '' : ' (skipped: no chromium on the PATH; install Debian\'s chromium package to run it)'

/** Headless Chromium through playwright-core; the caller closes it. */
export async function launchChromium (): Promise<import('playwright-core').Browser> {
  if (CHROMIUM === null) throw new Error(`no chromium on the PATH${chromiumMissing}`)
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] })
}

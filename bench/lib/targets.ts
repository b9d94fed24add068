/**
 * The servers the benchmarks compare, each in a process of its own: riptide
 * through its CLI (defaults: a worker per core, LMDB; or a set number of
 * workers), and @deepstream/server 7.0.2 on uWebSockets.js (its fastest) or on
 * its default Node http + ws, auth and permissions open, telemetry off, the
 * binary WebSocket and HTTP endpoints.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnServer, stopServer } from './child-server.js'
import { ProtocolClient } from './protocol-client.js'
import { cpuSeconds } from './load.js'
import type { LoadProtocol } from './load-worker.js'

import { PACKAGE_ROOT as ROOT } from '../../src/native-adapters/compiled-module.js'
import { freePort } from '../../src/native-adapters/http/free-port.js'

export { ROOT }

export interface Target {
  name: string
  port: number
  pid: number
  stop: () => Promise<unknown>
  /** What the load generator speaks to it (default deepstream's protobuf). */
  protocol?: LoadProtocol
  /** It serves events only (Socket.IO): record, RPC and login scenarios skip it. */
  eventsOnly?: boolean
}

/**
 * riptide through its CLI with its defaults (a worker per core, LMDB), or with `workers` worker
 * threads; `nodeArgs` go to node (bench:profile's `--cpu-prof`).
 */
export async function startRiptide (work: string, workers?: number, nodeArgs: string[] = []): Promise<Target> {
  const config = join(work, 'riptide.yml')
  // RIPTIDE_BENCH_RUNNER=threads|piscina picks the connection workers' runner (the config's default otherwise).
  const runner = process.env.RIPTIDE_BENCH_RUNNER === undefined ? '' : `workerRunner: ${process.env.RIPTIDE_BENCH_RUNNER}\n`
  writeFileSync(config, `logLevel: INFO\n${runner}cache: { type: lmdb, options: { path: ${JSON.stringify(join(work, 'riptide-data'))} } }\nstorage: { type: none }\n`)
  const server = await spawnServer(config, ['--log-level', 'info', ...(workers === undefined ? [] : ['--workers', String(workers)])], work, nodeArgs)
  return { name: workers === undefined ? 'riptide' : `riptide, ${workers} worker${workers === 1 ? '' : 's'}`, port: server.port, pid: server.process.pid ?? 0, stop: () => stopServer(server) }
}

/**
 * deepstream 7.0.2 through its CLI. `server`: `uws`, its fastest HTTP server (the baseline of every
 * ratio), or `default`, its Node http + ws.
 */
export async function startDeepstream (work: string, server: 'uws' | 'default' = 'uws'): Promise<Target> {
  const port = await freePort()
  const config = join(work, 'deepstream.yml')
  writeFileSync(config, [
    'serverName: UUID', 'showLogo: false', 'logLevel: WARN', 'telemetry: { type: deepstreamIO, options: { enabled: false } }',
    `httpServer: { type: ${server}, options: { port: ${port}, host: 127.0.0.1 } }`,
    'connectionEndpoints: [{ type: ws-binary, options: { urlPath: /deepstream, maxAuthAttempts: 3, unauthenticatedClientTimeout: 180000 } }, { type: http, options: { allowAuthData: true, enableAuthEndpoint: false, authPath: /api/auth, postPath: /api, getPath: /api } }]',
    'auth: [{ type: none }]', 'permission: { type: none }', 'logger: { type: default, options: { colors: false } }', '',
  ].join('\n'))
  const bin = join(ROOT, 'node_modules', '@deepstream', 'server', 'dist', 'bin', 'deepstream')
  const child: ChildProcess = spawn(process.execPath, [bin, 'start', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], cwd: work })
  const exited = new Promise((done) => child.once('exit', done))
  let output = ''
  await new Promise<void>((done, fail) => {
    const poll = setInterval(() => {
      ProtocolClient.login(port).then(async (client) => { clearInterval(poll); await client.close(); done() }, () => {})
    }, 200)
    // Only the tail is kept: deepstream may log for every message of a scenario.
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-65_536) }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    void exited.then(() => { clearInterval(poll); fail(new Error(`deepstream exited:\n${output}`)) })
  })
  return { name: server === 'uws' ? 'deepstream 7.0.2 (uWS)' : 'deepstream 7.0.2 (node http)', port, pid: child.pid ?? 0, stop: async () => { child.kill('SIGTERM'); await exited } }
}

export function rssMiB (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? 0 : Number(match[1]) / 1024
}


/** 5,000 logins over the protobuf endpoint, 100 at a time, with the server's CPU seconds meanwhile; the caller closes the clients. */
export async function loginStorm (target: Target): Promise<{ clients: ProtocolClient[], seconds: number, serverCpuSeconds: number }> {
  const clients: ProtocolClient[] = []
  const cpuBefore = cpuSeconds(target.pid)
  const started = performance.now()
  for (let batch = 0; batch < 50; batch++) clients.push(...await Promise.all(Array.from({ length: 100 }, () => ProtocolClient.login(target.port))))
  return { clients, seconds: (performance.now() - started) / 1000, serverCpuSeconds: cpuSeconds(target.pid) - cpuBefore }
}

/** A bench server script of this repository in a process of its own, which prints `listening <port>`. */
async function startScript (script: string, name: string): Promise<Omit<Target, 'protocol' | 'eventsOnly'>> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', script)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise((done) => child.once('exit', done))
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening (\d+)/.exec(output)
      if (match !== null) resolve(Number(match[1]))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then(() => reject(new Error(`${name} exited:\n${output}`)))
  })
  return { name, port, pid: child.pid ?? 0, stop: async () => { child.kill('SIGTERM'); await exited } }
}

/** Socket.IO 4.8 on uWebSockets.js in a process of its own (socketio-server.ts): the peer for event fan-out. */
export async function startSocketIo (): Promise<Target> {
  return { ...await startScript('socketio-server.js', 'Socket.IO 4.8 (uWS)'), protocol: 'socketio', eventsOnly: true }
}

/** The floor (floor-server.ts): the least JavaScript a deepstream-compatible server on uWS runs per message. */
export async function startFloor (): Promise<Target> {
  return startScript('floor-server.js', 'floor: bare uWS relay, 1 thread')
}

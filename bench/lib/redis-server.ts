/**
 * A real redis-server (Debian's `redis-server` package) on a free port of 127.0.0.1, in a temp
 * folder of its own, for tests and benches. `appendonly yes` with `appendfsync always`: Redis
 * replies to a write once it is on disk, as a durable acknowledgement needs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../src/native-adapters/http/free-port.js'

export const REDIS_SERVER = '/usr/bin/redis-server'

export interface RedisServer {
  readonly port: number
  readonly dir: string
  readonly pid: number
  /** Stops it (SIGTERM: Redis flushes and exits; SIGKILL: a crash) and waits for the exit. */
  stop (signal?: NodeJS.Signals): Promise<void>
}

export function redisInstalled (): boolean { return existsSync(REDIS_SERVER) }

function waitForLine (child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (pattern.test(output)) resolve()
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`)))
  })
}

/** Starts redis-server; `again` restarts one on the same port and append-only file. */
export async function startRedisServer (again?: { port: number, dir: string }): Promise<RedisServer> {
  const port = again?.port ?? await freePort()
  const dir = again?.dir ?? mkdtempSync(join(tmpdir(), 'riptide-redis-'))
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await waitForLine(child, /Ready to accept connections/, 'redis-server')
  child.stdout?.resume()
  child.stderr?.resume()
  return { port, dir, pid: child.pid ?? 0, stop: async (signal: NodeJS.Signals = 'SIGTERM') => { child.kill(signal); await exited } }
}

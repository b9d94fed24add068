/**
 * Real Redis and PostgreSQL servers for tests, from Debian's `redis-server` and `postgresql`
 * packages (`.ci/run` installs them): each starts on a free port of 127.0.0.1 in a temp folder
 * of its own and is stopped by the test that started it. PostgreSQL refuses to run as root, so
 * when the tests run as root its tools run as the `postgres` user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, readdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../src/native-adapters/http/free-port.js'
import { makeTempDir } from './helpers.js'

export interface Service { readonly port: number, stop (): Promise<void> }

const REDIS = '/usr/bin/redis-server'
const PG_ROOT = '/usr/lib/postgresql'
const pgBin = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).map((version) => join(PG_ROOT, version, 'bin')).find((bin) => existsSync(join(bin, 'pg_ctl'))) : undefined

/** Empty when both servers are installed; otherwise why a test that needs them is skipped, for its title. */
export const servicesMissing = existsSync(REDIS) && pgBin !== undefined
  ? ''
  : ' (skipped: install Debian\'s redis-server and postgresql packages to run it; .ci/run does)'

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

/**
 * redis-server with `appendonly yes` and `appendfsync always`: a write is acknowledged once it is
 * on disk, as riptide's durable setting would ask of it.
 */
export async function startRedis (again?: { port: number, dir: string }): Promise<Service & { dir: string, stop (signal?: NodeJS.Signals): Promise<void> }> {
  // `again`: a restart on the same port and append-only file (what was acknowledged must be there).
  const port = again?.port ?? await freePort()
  const dir = again?.dir ?? makeTempDir('riptide-redis-')
  const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await waitForLine(child, /Ready to accept connections/, 'redis-server')
  child.stdout?.resume()
  return { port, dir, stop: async (signal: NodeJS.Signals = 'SIGTERM') => { child.kill(signal); await exited } }
}

/** Runs a PostgreSQL tool, as the postgres user when this process is root. */
function pgTool (tool: string, args: string[]): void {
  const bin = join(pgBin as string, tool)
  if (userInfo().uid === 0) execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' })
  else execFileSync(bin, args, { stdio: 'pipe' })
}

/** A fresh cluster (trust auth for local connections, user `postgres`) with a database `riptide`. */
export async function startPostgres (): Promise<Service> {
  const port = await freePort()
  const dir = makeTempDir('riptide-pg-')
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'])), Number(execFileSync('id', ['-g', 'postgres'])))
  const data = join(dir, 'data')
  pgTool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  pgTool('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'])
  pgTool('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'riptide'])
  return { port, stop: async () => { pgTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']) } }
}

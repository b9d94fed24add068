/**
 * Real Redis and PostgreSQL servers for tests, from Debian's `redis-server` and `postgresql`
 * packages (`.ci/run` installs them): each starts on a free port of 127.0.0.1 in a temp folder
 * of its own and is stopped by the test that started it. PostgreSQL refuses to run as root, so
 * when the tests run as root its tools run as the `postgres` user.
 */
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, readdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../src/native-adapters/http/free-port.js'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { Redis } from 'ioredis'
import { closeClients, DEFAULT_KIND, makeTempDir, removeTempDirs, startTestServer, type TestServer } from './helpers.js'
import { redisInstalled, startRedisServer, type RedisServer } from '../bench/lib/redis-server.js'

export interface Service { readonly port: number, stop (): Promise<void> }

const PG_ROOT = '/usr/lib/postgresql'
const pgBin = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).map((version) => join(PG_ROOT, version, 'bin')).find((bin) => existsSync(join(bin, 'pg_ctl'))) : undefined

/** Empty when both servers are installed; otherwise why a test that needs them is skipped, for its title. */
export const servicesMissing = redisInstalled() && pgBin !== undefined
  ? ''
  : ' (skipped: install Debian\'s redis-server and postgresql packages to run it; .ci/run does)'

/** redis-server (bench/lib/redis-server.ts); `again` restarts it on the same port and append-only file. */
export async function startRedis (again?: { port: number, dir: string }): Promise<RedisServer> {
  return startRedisServer(again ?? { port: await freePort(), dir: makeTempDir('riptide-redis-') })
}

/**
 * A redis-server for the tests of one describe block (call `useRedis()` inside it), with a plain
 * ioredis client to look inside it: started before the first test and stopped after the last.
 * After each test, the clients and the servers the test registered in `servers` are closed.
 */
export interface RedisFixture {
  readonly server: RedisServer
  readonly client: Redis
  readonly servers: Array<{ close (): Promise<void> }>
  url (db?: number): string
  /**
   * A host on this Redis: a riptide server of 2 workers whose cluster node and cache are on it
   * (`config` on top), closed after the test.
   */
  host (config?: Record<string, unknown>): Promise<TestServer>
  /** Starts Redis again on the same port and append-only file, after `server.stop()`. */
  restart (): Promise<void>
}

export function useRedis (): RedisFixture {
  let server: RedisServer | null = null
  let client: Redis | null = null
  const servers: Array<{ close (): Promise<void> }> = []
  const started = (): RedisServer => {
    if (server === null) throw new Error('Redis is not started: use the fixture inside a test')
    return server
  }
  beforeAll(async () => {
    server = await startRedis()
    client = new Redis({ port: server.port, lazyConnect: true })
    await client.connect()
  }, 30_000)
  afterEach(async () => {
    closeClients()
    await Promise.all(servers.splice(0).map((each) => each.close()))
    // Each test starts on an empty Redis: no hosts, names or records of the one before.
    await client?.flushall()
  })
  afterAll(async () => {
    client?.disconnect()
    await server?.stop()
    removeTempDirs()
  })
  return {
    get server () { return started() },
    get client () { return client as Redis },
    servers,
    url: (db = 0) => `redis://127.0.0.1:${started().port}/${db}`,
    host: async (config = {}) => {
      const url = `redis://127.0.0.1:${started().port}/0`
      const server = await startTestServer({ clusterNode: { type: 'redis', options: { url } }, cache: { type: 'redis', options: { url } }, storage: { type: 'none' }, ...config }, DEFAULT_KIND, process.cwd(), 2)
      servers.push(server)
      return server
    },
    restart: async () => { server = await startRedis({ port: started().port, dir: started().dir }) },
  }
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

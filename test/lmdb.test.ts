import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { open } from 'lmdb'
import { defaultConfig, LmdbRecords, RiptideError } from '../src/index.js'
import { findConfigFile } from '../src/native-free-core/config/loader.js'
import { cacheSuite } from '../src/conformance/index.js'
import { closeClients, connect, killChildren, makeTempDir, RawClient, removeTempDirs, spawnServer, startTestServer } from './helpers.js'
import { RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import type { Message } from '../src/index.js'

afterAll(() => removeTempDirs())

cacheSuite('lmdb', () => new LmdbRecords({ path: makeTempDir() }))

function lmdbConfig (path: string): Record<string, unknown> {
  return { cache: { type: 'lmdb', options: { path } }, storage: { type: 'none' } }
}

async function startError (config: Record<string, unknown>): Promise<RiptideError> {
  const error = await startTestServer(config).then(async (server) => { await server.close(); return null }, (e: unknown) => e)
  expect(error).toBeInstanceOf(RiptideError)
  return error as RiptideError
}

describe('lmdb data directory', () => {
  it('refuses a data path that is a file', async () => {
    const file = join(makeTempDir(), 'plain-file')
    writeFileSync(file, 'x')
    const error = await startError(lmdbConfig(file))
    expect(error.code).toBe('RT_DATA_DIR_INVALID')
    expect(error.message).toContain('is a file, not a directory')
  })

  it('refuses a corrupt data file with a clear error instead of crashing', async () => {
    for (const bytes of [Buffer.alloc(20000, 7), Buffer.alloc(20000, 0), Buffer.from('tiny')]) {
      const dir = makeTempDir()
      writeFileSync(join(dir, 'records.mdb'), bytes)
      const error = await startError(lmdbConfig(dir))
      expect(error.code).toBe('RT_DATA_DIR_INVALID')
      expect(error.message).toMatch(/records\.mdb .*corrupt/)
    }
  })

  it('refuses an LMDB file that riptide did not write, and a newer data format', async () => {
    const foreign = makeTempDir()
    const other = open({ path: join(foreign, 'records.mdb') })
    await other.put('someone-else', { x: 1 })
    await other.close()
    const error = await startError(lmdbConfig(foreign))
    expect(error.code).toBe('RT_DATA_DIR_INVALID')
    expect(error.message).toContain('riptide did not write')

    const newer = makeTempDir()
    const future = open({ path: join(newer, 'records.mdb') })
    await future.put('riptide:format', 99)
    await future.close()
    const formatError = await startError(lmdbConfig(newer))
    expect(formatError.message).toContain('format 99')
  })

  it('names a bad option key, and refuses the cache and storage on one path', async () => {
    const bad = await startError({ cache: { type: 'lmdb', options: { pth: '/tmp/x' } } })
    expect(bad.code).toBe('RT_CONFIG_INVALID')
    expect(bad.message).toContain('cache.options')
    expect(bad.message).toContain('pth')
    const dir = makeTempDir()
    const same = await startError({ cache: { type: 'lmdb', options: { path: dir } }, storage: { type: 'lmdb', options: { path: dir } } })
    expect(same.message).toContain('storage.options.path')
  })

  it('creates a missing data directory', async () => {
    const dir = join(makeTempDir(), 'nested', 'data')
    const server = await startTestServer(lmdbConfig(dir))
    await server.close()
    const records = new LmdbRecords({ path: dir })
    await records.whenReady()
    await records.close()
  })
})

describe('records on lmdb', () => {
  afterEach(() => closeClients())

  it('keeps records, versions included, across a normal restart', async () => {
    const dir = makeTempDir()
    let server = await startTestServer(lmdbConfig(dir))
    const client = await connect(server)
    const record = client.record.getRecord('kept')
    await record.whenReady()
    await record.setWithAck({ n: 1 })
    await record.setWithAck('n', 2)
    await client.record.setDataWithAck('also-kept', [1, 2, 3])
    closeClients()
    await server.close()

    server = await startTestServer(lmdbConfig(dir))
    const again = await connect(server)
    expect(await again.record.snapshot('kept')).toEqual({ n: 2 })
    expect(await again.record.head('kept')).toBe(2)
    expect(await again.record.snapshot('also-kept')).toEqual([1, 2, 3])
    closeClients()
    await server.close()
  })

  it('deletes version and value together; a re-created record starts at version 0', async () => {
    const dir = makeTempDir()
    const server = await startTestServer(lmdbConfig(dir))
    const client = await connect(server)
    const record = client.record.getRecord('phoenix')
    await record.whenReady()
    await record.setWithAck({ life: 1 })
    expect(record.version).toBe(1)
    await new Promise<void>((resolve, reject) => { record.once('delete', resolve); record.once('error', reject); void record.delete() })
    expect(await client.record.head('phoenix')).toBe(-1)
    const reborn = client.record.getRecord('phoenix')
    await reborn.whenReady()
    expect(reborn.version).toBe(0)
    expect(reborn.get()).toEqual({})
    closeClients()
    await server.close()
  })

  it('answers head and bulk head from versions alone, never decoding a value', async () => {
    const dir = makeTempDir()
    const server = await startTestServer(lmdbConfig(dir))
    const client = await connect(server)
    await client.record.setDataWithAck('headed', { fine: true })
    await client.record.setDataWithAck('headed', { fine: 'still' })
    // Spoil the stored value behind the server's back: only a read of the value can notice.
    const env = open({ path: join(dir, 'records.mdb'), maxDbs: 4 })
    await env.openDB('values', { encoding: 'string' }).put('headed', '{not json')
    await env.close()
    expect(await client.record.head('headed')).toBe(2)
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBEANDHEAD, names: ['headed', 'nothing'], correlationId: 'h' })
    const bulk = await raw.next((m) => m.action === RECORD_ACTION.HEAD_RESPONSE_BULK)
    expect(bulk.versions).toEqual({ headed: 2 })
    const missing = await raw.next((m) => m.action === RECORD_ACTION.HEAD_RESPONSE)
    expect(missing).toMatchObject({ name: 'nothing', version: -1 })
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: 'headed' })
    expect((await raw.next((m) => m.originalAction === RECORD_ACTION.READ)).action).toBe(RECORD_ACTION.RECORD_LOAD_ERROR)
    raw.close()
    closeClients()
    await server.close()
  })

  it('makes a write durable with its own flush, not with that of a write issued after it', async () => {
    const dir = makeTempDir()
    const records = new LmdbRecords({ path: dir })
    await records.whenReady()
    await records.set('first', 0, { n: 1 })
    // Another process takes LMDB's write lock and keeps it for 3 s, saying so half a second before
    // it lets go: the next write cannot commit before that.
    const holder = spawn(process.execPath, ['--input-type=module', '-e', [
      `import { open } from ${JSON.stringify(import.meta.resolve('lmdb'))}`,
      `const env = open({ path: ${JSON.stringify(join(dir, 'records.mdb'))}, maxDbs: 4 })`,
      'const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)',
      "env.transactionSync(() => { console.log('locked'); pause(2500); console.log('releasing'); pause(500) })",
      'await env.close()',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] })
    const said = (word: string): Promise<string> => new Promise((resolve) => holder.stdout.on('data', (chunk: Buffer) => { if (String(chunk).includes(word)) resolve(word) }))
    const releasing = said('releasing')
    const exited = new Promise((resolve) => holder.once('exit', resolve))
    await said('locked')
    const later = records.set('second', 0, { n: 2 })
    // The first write's flush needs nothing from the second: durable() answers while the lock is held.
    expect(await Promise.race([records.durable().then(() => 'durable'), releasing])).toBe('durable')
    await exited
    await later
    await records.durable()
    await records.close()
  })

  it('gives a record error, not a crash, for a name longer than lmdb keys allow', async () => {
    const server = await startTestServer(lmdbConfig(makeTempDir()))
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'n'.repeat(3000), version: -1, data: '{}', isWriteAck: true, correlationId: '1' })
    expect((await raw.next((m) => m.correlationId === '1')).action).toBe(RECORD_ACTION.RECORD_UPDATE_ERROR)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: 'n'.repeat(3000) })
    expect((await raw.next((m) => m.originalAction === RECORD_ACTION.READ)).action).toBe(RECORD_ACTION.RECORD_LOAD_ERROR)
    raw.close()
    await server.close()
  })
})

function writeConfig (dir: string, dataDir: string): string {
  const file = join(dir, 'config.yml')
  writeFileSync(file, [
    'logLevel: INFO',
    'cache:',
    '  type: lmdb',
    '  options:',
    `    path: ${JSON.stringify(dataDir)}`,
    'storage:',
    '  type: none',
    '',
  ].join('\n'))
  return file
}

describe('lmdb across processes', () => {
  afterEach(async () => {
    closeClients()
    await killChildren()
  })

  it('the shipped conf/config.yml keeps records in ./data across a graceful restart', async () => {
    const cwd = makeTempDir()
    const shipped = fileURLToPath(new URL('../conf/config.yml', import.meta.url))
    let server = await spawnServer(shipped, [], cwd)
    const writer = await connect(server)
    await writer.record.setDataWithAck('settings/theme', { dark: true })
    server.process.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    closeClients()
    expect(existsSync(join(cwd, 'data', 'records.mdb'))).toBe(true)
    server = await spawnServer(shipped, [], cwd)
    const reader = await connect(server)
    expect(await reader.record.snapshot('settings/theme')).toEqual({ dark: true })
    expect(await reader.record.head('settings/theme')).toBe(1)
  })

  it('riptide start without --config finds a config as deepstream does and keeps 500 acknowledged records across SIGKILL', async () => {
    const cwd = makeTempDir()
    let server = await spawnServer(null, [], cwd)
    // Nothing in the working folder: the installed package's conf/config.yml is found and named.
    expect(server.startOutput).toContain(`config ${fileURLToPath(new URL('../conf/config.yml', import.meta.url))}`)
    const writer = await connect(server)
    const names = Array.from({ length: 500 }, (_, i) => `nocfg/${i}`)
    await Promise.all(names.map((name, i) => writer.record.setDataWithAck(name, { i })))
    server.process.kill('SIGKILL')
    expect(await server.exited).toBe('SIGKILL')
    closeClients()
    server = await spawnServer(null, [], cwd)
    const reader = await connect(server)
    const found = await Promise.all(names.map((name) => reader.record.snapshot(name)))
    expect(found).toEqual(names.map((_, i) => ({ i })))
  })

  it('finds conf/config.yml in the working folder first, and with no config at all keeps records in LMDB under ./data', () => {
    const cwd = makeTempDir()
    mkdirSync(join(cwd, 'conf'))
    writeFileSync(join(cwd, 'conf', 'config.yml'), 'logLevel: WARN\n')
    expect(findConfigFile(cwd, {}, '/nonexistent')).toBe(join(cwd, 'conf', 'config.yml'))
    expect(findConfigFile(makeTempDir(), {}, '/nonexistent')).toBe(existsSync('/etc/deepstream/conf/config.yml') ? '/etc/deepstream/conf/config.yml' : null)
    expect(defaultConfig().config.cache).toEqual({ type: 'lmdb', options: { path: './data' } })
  })

  it('keeps every acknowledged write when the server is killed with SIGKILL right after the last ack', async () => {
    const dir = makeTempDir()
    const config = writeConfig(dir, join(dir, 'data'))
    let server = await spawnServer(config)
    const writer = await connect(server)
    const N = 300
    const names = Array.from({ length: N }, (_, i) => `crash/${i}`)
    // Two acknowledged writes per record, all in flight together: version 2 each.
    await Promise.all(names.map(async (name, i) => {
      await writer.record.setDataWithAck(name, { i, round: 1 })
      await writer.record.setDataWithAck(name, 'round', 2)
    }))
    server.process.kill('SIGKILL')
    expect(await server.exited).toBe('SIGKILL')
    closeClients()

    server = await spawnServer(config)
    const reader = await connect(server)
    const raw = await RawClient.login(server)
    for (const [i, name] of names.entries()) {
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name })
      const read = await raw.next((m) => m.name === name)
      expect(read).toMatchObject({ action: RECORD_ACTION.READ_RESPONSE, version: 2 })
      expect(JSON.parse(read.data as string)).toEqual({ i, round: 2 })
    }
    expect(await reader.record.head(names[N - 1])).toBe(2)
    raw.close()
  })

  /** A server in this process and one in a child process, on one LMDB data directory. */
  async function twoProcessesOnOneFile (): Promise<{ inProcess: Awaited<ReturnType<typeof startTestServer>>, child: Awaited<ReturnType<typeof spawnServer>> }> {
    const dir = makeTempDir()
    const dataDir = join(dir, 'data')
    mkdirSync(dataDir)
    return { inProcess: await startTestServer(lmdbConfig(dataDir)), child: await spawnServer(writeConfig(dir, dataDir)) }
  }

  it('decides each version once when two processes race writes on one record', async () => {
    const { inProcess, child } = await twoProcessesOnOneFile()
    const setup = await RawClient.login(inProcess)
    setup.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'counter', version: -1, data: JSON.stringify({ count: 0 }), isWriteAck: true, correlationId: 'init' })
    await setup.next((m) => m.correlationId === 'init' && m.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT)
    setup.close()

    // Each round both clients claim the same next version: exactly one wins, the other gets VERSION_EXISTS.
    const a = await RawClient.login(inProcess)
    const b = await RawClient.login(child)
    let version = 1
    for (let round = 0; round < 20; round++) {
      const claim = (raw: RawClient, who: string): Promise<Message> => {
        const correlationId = `${who}${round}`
        raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: 'counter', version: version + 1, data: JSON.stringify({ count: version, who }), isWriteAck: true, correlationId })
        return raw.next((m) => m.correlationId === correlationId)
      }
      const replies = await Promise.all([claim(a, 'a'), claim(b, 'b')])
      const actions = replies.map((reply) => reply.action).sort()
      expect(actions).toEqual([RECORD_ACTION.VERSION_EXISTS, RECORD_ACTION.WRITE_ACKNOWLEDGEMENT].sort())
      const loser = replies.find((reply) => reply.action === RECORD_ACTION.VERSION_EXISTS) as Message
      expect(loser.version).toBe(version + 1)
      version++
    }

    // Read-modify-write increments with retry on conflict: no update is lost.
    const increments = async (raw: RawClient, who: string, times: number): Promise<void> => {
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: 'counter' })
      let state = await raw.next((m) => m.action === RECORD_ACTION.READ_RESPONSE)
      let current = { version: state.version as number, count: (JSON.parse(state.data as string) as { count: number }).count }
      for (let done = 0, attempt = 0; done < times; attempt++) {
        const correlationId = `${who}-inc-${attempt}`
        raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: 'counter', version: current.version + 1, data: JSON.stringify({ count: current.count + 1 }), isWriteAck: true, correlationId })
        state = await raw.next((m) => m.correlationId === correlationId)
        if (state.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT) {
          current = { version: current.version + 1, count: current.count + 1 }
          done++
        } else {
          expect(state.action).toBe(RECORD_ACTION.VERSION_EXISTS)
          current = { version: state.version as number, count: (JSON.parse(state.data as string) as { count: number }).count }
        }
      }
    }
    const start = { version, count: version - 1 }
    await Promise.all([increments(a, 'a', 50), increments(b, 'b', 50)])
    const check = await RawClient.login(child)
    check.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: 'counter' })
    const final = await check.next((m) => m.action === RECORD_ACTION.READ_RESPONSE)
    expect(final.version).toBe(start.version + 100)
    expect(JSON.parse(final.data as string)).toEqual({ count: start.count + 100 })
    for (const raw of [a, b, check]) raw.close()
    await inProcess.close()
  })

  it('gives each setData the next version when two processes take turns on one record', async () => {
    // Each server remembers the version it last wrote and tries it first; the other process's
    // writes make that guess stale every turn, and the write must still land on the true version.
    const { inProcess, child } = await twoProcessesOnOneFile()
    const writers = [await RawClient.login(inProcess), await RawClient.login(child)]
    const turns = 20
    for (let turn = 0; turn < turns; turn++) {
      const correlationId = `turn-${turn}`
      writers[turn % 2].send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: 'taken-turns', version: -1, data: JSON.stringify({ turn }), isWriteAck: true, correlationId })
      const reply = await writers[turn % 2].next((m) => m.correlationId === correlationId)
      expect(reply.action).toBe(RECORD_ACTION.WRITE_ACKNOWLEDGEMENT)
    }
    for (const raw of writers) {
      raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: 'taken-turns' })
      const read = await raw.next((m) => m.action === RECORD_ACTION.READ_RESPONSE)
      expect(read.version).toBe(turns)
      expect(JSON.parse(read.data as string)).toEqual({ turn: turns - 1 })
      raw.close()
    }
    await inProcess.close()
  })
})

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeClients, connect, DEFAULT_KIND, makeTempDir, RawClient, removeTempDirs, startInProcessServer } from './helpers.js'
import type { RiptideServer } from '../src/index.js'
import { RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

const STORAGES = [
  { storage: 'memory', ref: () => ({ type: 'memory' }) },
  { storage: 'lmdb', ref: () => ({ type: 'lmdb', options: { path: makeTempDir() } }) },
]

describe.each(STORAGES)('record storage prefixes with $storage storage', ({ ref }) => {
  let server: RiptideServer
  beforeAll(async () => {
    server = await startInProcessServer({
      storage: ref(),
      record: { storageExclusionPrefixes: ['tmp/'], storageHotPathPrefixes: ['metrics/'] },
    })
  })
  afterEach(() => closeClients())
  afterAll(async () => {
    await server.close()
    removeTempDirs()
  })

  it('keeps excluded names in the cache only', async () => {
    const client = await connect(server)
    await client.record.setDataWithAck('tmp/session', { a: 1 })
    await client.record.setDataWithAck('kept/session', { a: 1 })
    expect(await server.services.cache.get('tmp/session')).toEqual({ version: 1, data: { a: 1 } })
    expect(await server.services.storage.get('tmp/session')).toBeNull()
    expect(await server.services.storage.get('kept/session')).toEqual({ version: 1, data: { a: 1 } })
  })

  it('writes hot-path setData straight through at version 0 and refuses patches there', async () => {
    const client = await connect(server)
    await client.record.setDataWithAck('metrics/cpu', { load: 1 })
    await client.record.setDataWithAck('metrics/cpu', { load: 2 })
    expect(await server.services.storage.get('metrics/cpu')).toEqual({ version: 0, data: { load: 2 } })
    const raw = await RawClient.login(server)
    raw.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDPATCH, name: 'metrics/cpu', version: -1, path: 'load', data: '3' })
    expect(await raw.next((m) => m.topic === TOPIC.RECORD)).toMatchObject({ action: RECORD_ACTION.INVALID_PATCH_ON_HOTPATH, name: 'metrics/cpu' })
    raw.close()
  })
})

describe('plugins by npm name', () => {
  it('resolves cache name "counting" to the package riptide-cache-counting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riptide-name-'))
    const pkg = join(dir, 'node_modules', 'riptide-cache-counting')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'riptide-cache-counting', type: 'module', main: 'index.js' }))
    writeFileSync(join(pkg, 'index.js'), `
      export default class CountingCache {
        constructor (options) { this.description = 'counting cache ' + options.label; this.map = new Map(); this.sets = 0 }
        async whenReady () {}
        async close () {}
        async get (name) { const e = this.map.get(name); return e === undefined ? null : JSON.parse(e) }
        async set (name, version, data) { this.sets++; this.map.set(name, JSON.stringify({ version, data })) }
        async delete (name) { this.map.delete(name) }
        async deleteBulk (names) { for (const n of names) this.map.delete(n) }
        async head (name) { return (await this.get(name))?.version ?? -1 }
        async headBulk (names) { const versions = {}; const missing = []; for (const n of names) { const v = await this.head(n); if (v === -1) missing.push(n); else versions[n] = v } return { versions, missing } }
      }`)
    const server = await startInProcessServer({ cache: { name: 'counting', options: { label: 'x' } } }, DEFAULT_KIND, dir)
    expect(server.services.cache.description).toBe('counting cache x')
    const client = await connect(server)
    await client.record.setDataWithAck('named', { ok: true })
    expect((server.services.cache as unknown as { sets: number }).sets).toBe(1)
    closeClients()
    await server.close()
  })
})

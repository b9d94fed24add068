/**
 * Records in LMDB (cache type `lmdb`, storage type `lmdb`): one environment
 * file, `<path>/records.mdb`, that every thread and process of a server
 * opens. Two databases inside it:
 *
 *   versions  name -> empty value; the record version is the LMDB entry
 *             version, so head, has and bulk head never touch a value
 *   values    name -> the record data as JSON text
 *
 * A versioned write is one conditional batch: LMDB's writer thread checks
 * the entry version of `versions[name]` and applies both puts only if it
 * still matches, inside the commit. Writers on different threads or
 * processes racing on one record therefore cannot both win.
 *
 * Writes from one event turn share a transaction (lmdb-js batches them),
 * and commits are flushed to disk after the writer lock is released
 * (overlappingSync). `set` resolves at commit, when every reader sees the
 * write; `durable()` resolves once the transaction of the last write that
 * resolved is flushed, which covers every earlier one (LMDB flushes in
 * commit order). Write acknowledgements wait for it. It is that write's own
 * flush (lmdb-js's `separateFlushed`), not the environment's `flushed`,
 * which waits for the transaction being filled at the time of asking: a
 * later one, which costs an acknowledgement a second flush.
 */
import { open, type Database, type RootDatabase } from 'lmdb'
import { z } from 'zod'
import type { Cache, StoredRecord } from '../../native-free-core/plugins/cache/cache.js'
import type { JSONValue } from '../../native-free-core/protocol/message.js'
import { RiptideError, errorMessage } from '../../native-free-core/errors.js'
import { prepareDataDirectory } from './data-dir.js'
import { parsePluginOptions } from '../../native-free-core/config/plugin-options.js'

/** Bumped when the layout of the databases changes. */
export const DATA_FORMAT = 1
const FORMAT_KEY = 'riptide:format'
const NO_VALUE = Buffer.alloc(0)
/** LMDB's key limit in lmdb-js builds, in bytes of the encoded key. */
const MAX_NAME_BYTES = 1978

const optionsSchema = z.object({
  path: z.string().min(1).default('./data'),
  /** false: never flush (throw-away data, e.g. `memory` with several workers); write acks do not wait. */
  sync: z.boolean().default(true),
}).strict()

export class LmdbRecords implements Cache {
  readonly description: string
  private readonly path: string
  private readonly sync: boolean
  private env: RootDatabase | null = null
  private versionsDb: Database<Buffer, string> | null = null
  private valuesDb: Database<string, string> | null = null
  /** The flush of the transaction that holds the last write to resolve; null until one has. */
  private lastFlush: Promise<void> | null = null

  /** `role` names the config section in errors: `cache` or `storage`. */
  constructor (options: unknown, readonly role: 'cache' | 'storage' = 'cache') {
    const parsed = parsePluginOptions(optionsSchema, options, `${role}.options`)
    this.path = parsed.path
    this.sync = parsed.sync
    this.description = `lmdb ${role} at ${this.path}`
  }

  async whenReady (): Promise<void> {
    const { file, existed } = prepareDataDirectory(this.path)
    let env: RootDatabase
    try {
      env = open({ path: file, maxDbs: 4, noSync: !this.sync, separateFlushed: true })
    } catch (error) {
      throw new RiptideError('RT_DATA_DIR_INVALID', `${file} cannot be opened by LMDB: ${errorMessage(error)}`, { cause: error })
    }
    this.env = env
    const format = env.get(FORMAT_KEY) as unknown
    if (format === undefined) {
      if (existed && env.getKeysCount() > 0) {
        await this.close()
        throw new RiptideError('RT_DATA_DIR_INVALID', `${file} is an LMDB file that riptide did not write (no "${FORMAT_KEY}" entry); move it away or choose another ${this.role}.options.path`)
      }
      env.putSync(FORMAT_KEY, DATA_FORMAT)
    } else if (format !== DATA_FORMAT) {
      await this.close()
      throw new RiptideError('RT_DATA_DIR_INVALID', `${file} holds riptide data format ${String(format)}; this riptide reads format ${DATA_FORMAT}`)
    }
    this.versionsDb = env.openDB<Buffer, string>('versions', { useVersions: true, encoding: 'binary' })
    this.valuesDb = env.openDB<string, string>('values', { encoding: 'string' })
  }

  private get versions (): Database<Buffer, string> {
    if (this.versionsDb === null) throw new RiptideError('RT_SERVER_STATE', `${this.description} is not open`)
    return this.versionsDb
  }

  private get values (): Database<string, string> {
    if (this.valuesDb === null) throw new RiptideError('RT_SERVER_STATE', `${this.description} is not open`)
    return this.valuesDb
  }

  async get (name: string): Promise<StoredRecord | null> {
    checkName(name)
    const env = this.env as RootDatabase
    const transaction = env.useReadTransaction()
    try {
      const entry = this.versions.getEntry(name, { transaction })
      if (entry === undefined) return null
      const json = this.values.get(name, { transaction })
      return { version: entry.version ?? 0, data: JSON.parse(json ?? 'null') as JSONValue }
    } finally {
      transaction.done()
    }
  }

  async set (name: string, version: number, data: JSONValue): Promise<void> {
    checkName(name)
    const json = JSON.stringify(data)
    await this.settle(this.versions.batch(() => {
      this.versions.put(name, NO_VALUE, version)
      this.values.put(name, json)
    }))
  }

  async setIfVersion (name: string, expected: number, version: number, data: JSONValue): Promise<boolean> {
    checkName(name)
    const json = JSON.stringify(data)
    const write = (): void => {
      this.versions.put(name, NO_VALUE, version)
      this.values.put(name, json)
    }
    return await this.settle(expected === -1 ? this.versions.ifNoExists(name, write) : this.versions.ifVersion(name, expected, write))
  }

  async delete (name: string): Promise<void> {
    await this.deleteBulk([name])
  }

  async deleteBulk (names: string[]): Promise<void> {
    for (const name of names) checkName(name)
    await this.settle(this.versions.batch(() => {
      for (const name of names) {
        this.versions.remove(name)
        this.values.remove(name)
      }
    }))
  }

  /** Waits for a write's commit and keeps its transaction's flush for `durable()`. */
  private async settle<T> (write: Promise<T>): Promise<T> {
    const flushed = (write as Promise<T> & { flushed?: Promise<void> }).flushed
    const result = await write
    // With separateFlushed, lmdb-js puts on each write's promise the flush of its transaction (the
    // write's own promise where commits flush before they resolve); writes inside a synchronous
    // transaction have none, and are flushed when they return.
    if (flushed !== undefined) this.lastFlush = flushed
    return result
  }

  async head (name: string): Promise<number> {
    checkName(name)
    return this.versions.getEntry(name)?.version ?? -1
  }

  async headBulk (names: string[]): Promise<{ versions: Record<string, number>, missing: string[] }> {
    const versions: Record<string, number> = {}
    const missing: string[] = []
    const transaction = (this.env as RootDatabase).useReadTransaction()
    try {
      for (const name of names) {
        checkName(name)
        const version = this.versions.getEntry(name, { transaction })?.version
        if (version === undefined) missing.push(name)
        else versions[name] = version
      }
    } finally {
      transaction.done()
    }
    return { versions, missing }
  }

  durable (): Promise<void> {
    if (!this.sync || this.lastFlush === null) return Promise.resolve()
    return this.lastFlush
  }

  async close (): Promise<void> {
    const env = this.env
    this.env = null
    this.versionsDb = null
    this.valuesDb = null
    this.lastFlush = null
    await env?.close()
  }
}

/** LMDB refuses keys over its limit; say so in words a client can act on. */
function checkName (name: string): void {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES - 8) {
    throw new RangeError(`record name is ${Buffer.byteLength(name)} bytes; lmdb stores names up to ${MAX_NAME_BYTES - 8} bytes`)
  }
}

/**
 * Records in Redis (cache type `redis`), in the layout of deepstream's own `@deepstream/cache-redis`:
 * `<name>_v` holds the version as decimal text and `<name>_d` the data as JSON text, so riptide and
 * deepstream servers on one Redis read and write the same records, and a bulk head reads versions
 * only.
 *
 * Versions are decided in Redis: `setIfVersion` is one Lua script that compares `<name>_v` and
 * writes both keys, atomically, so writers on any thread, process or host cannot both win.
 *
 * A write resolves when Redis has answered it. That is on disk only with `appendonly yes` and
 * `appendfsync always` (Redis then replies after its fsync); start-up warns when Redis says
 * otherwise (docs/storage.md says what each setting keeps).
 */
import type { Cache, StoredRecord } from '../../native-free-core/plugins/cache/cache.js'
import type { Logger } from '../../native-free-core/plugins/logger/logger.js'
import type { JSONValue } from '../../native-free-core/protocol/message.js'
import { errorMessage } from '../../native-free-core/errors.js'
import { parseRedisOptions, RedisConnection } from './redis-connection.js'

/** KEYS: version key, data key; ARGV: expected version (-1: absent), new version, data. 1 if written. */
const SET_IF_VERSION = `
local current = redis.call('GET', KEYS[1])
if current == false then
  if ARGV[1] ~= '-1' then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call('MSET', KEYS[1], ARGV[2], KEYS[2], ARGV[3])
return 1
`

interface RecordScripts {
  riptideSetIfVersion (versionKey: string, dataKey: string, expected: string, version: string, data: string): Promise<number>
}

const versionKey = (name: string): string => `${name}_v`
const dataKey = (name: string): string => `${name}_d`

export class RedisCache implements Cache {
  readonly description: string
  private readonly connection: RedisConnection
  private readonly scripts: RecordScripts

  constructor (options: unknown, private readonly logger: Logger) {
    this.connection = new RedisConnection(parseRedisOptions(options, 'cache.options'), logger, 'redis cache')
    this.connection.client.defineCommand('riptideSetIfVersion', { numberOfKeys: 2, lua: SET_IF_VERSION })
    this.scripts = this.connection.client as unknown as RecordScripts
    this.description = `redis cache at ${this.connection.address}`
  }

  async whenReady (): Promise<void> {
    await this.connection.open()
    await this.checkDurability()
  }

  close (): Promise<void> { return this.connection.close() }

  private get redis (): RedisConnection['client'] { return this.connection.client }

  async get (name: string): Promise<StoredRecord | null> {
    const [version, data] = await this.redis.mget(versionKey(name), dataKey(name))
    if (version === null) return null
    return { version: Number(version), data: data === null ? {} : JSON.parse(data) as JSONValue }
  }

  async head (name: string): Promise<number> {
    const version = await this.redis.get(versionKey(name))
    return version === null ? -1 : Number(version)
  }

  async headBulk (names: string[]): Promise<{ versions: Record<string, number>, missing: string[] }> {
    const versions: Record<string, number> = {}
    const missing: string[] = []
    if (names.length === 0) return { versions, missing }
    const found = await this.redis.mget(names.map(versionKey))
    names.forEach((name, i) => {
      const version = found[i]
      if (version === null) missing.push(name)
      else versions[name] = Number(version)
    })
    return { versions, missing }
  }

  async set (name: string, version: number, data: JSONValue): Promise<void> {
    await this.redis.mset(versionKey(name), String(version), dataKey(name), JSON.stringify(data))
  }

  async setIfVersion (name: string, expected: number, version: number, data: JSONValue): Promise<boolean> {
    return await this.scripts.riptideSetIfVersion(versionKey(name), dataKey(name), String(expected), String(version), JSON.stringify(data)) === 1
  }

  async delete (name: string): Promise<void> {
    await this.redis.del(versionKey(name), dataKey(name))
  }

  async deleteBulk (names: string[]): Promise<void> {
    if (names.length === 0) return
    await this.redis.del(...names.flatMap((name) => [versionKey(name), dataKey(name)]))
  }

  /** Says at start-up when an acknowledged write would not survive a crash of Redis's host. */
  private async checkDurability (): Promise<void> {
    let settings: Record<string, string>
    try {
      const pairs = await this.redis.config('GET', 'append*') as string[]
      settings = Object.fromEntries(pairs.flatMap((value, i) => i % 2 === 0 ? [[value, pairs[i + 1]]] : []))
    } catch (error) {
      this.logger.warn('REDIS_NOT_DURABLE', `redis cache: cannot read Redis's persistence settings (${errorMessage(error)}); acknowledged writes are on disk only if it runs with appendonly yes and appendfsync always`)
      return
    }
    if (settings.appendonly !== 'yes' || settings.appendfsync !== 'always') {
      this.logger.warn('REDIS_NOT_DURABLE', `redis cache: Redis at ${this.connection.address} runs with appendonly ${settings.appendonly ?? '?'}, appendfsync ${settings.appendfsync ?? '?'}; acknowledged writes survive a crash of its host only with appendonly yes and appendfsync always (docs/storage.md)`)
    }
  }
}

/**
 * A connection to Redis for one riptide plugin (ioredis). Options, as deepstream's Redis plugins
 * take them: `url` (`redis://[[user]:password@]host[:port][/db]`), or `host`, `port`, `password`
 * and `db`; `url` wins where both are given.
 *
 * While the connection is down a command fails at once (no offline queue: a write must not run
 * long after its client was told that it failed). The connection retries by itself, every 100 ms
 * growing to 2 s, and the log says when Redis went and when it came back.
 */
import { Redis } from 'ioredis'
import { z } from 'zod'
import type { Logger } from '../../native-free-core/plugins/logger/logger.js'
import { parsePluginOptions } from '../../native-free-core/config/plugin-options.js'
import { RiptideError } from '../../native-free-core/errors.js'

export const redisOptionsSchema = z.object({
  url: z.string().url().refine((url) => /^rediss?:\/\//.test(url), 'must start with redis:// or rediss://').optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(6379),
  password: z.string().optional(),
  db: z.number().int().min(0).default(0),
}).strict()

export type RedisOptions = z.infer<typeof redisOptionsSchema>

/** Checks the options of a Redis plugin; `section` names them in errors (`cache.options`). */
export function parseRedisOptions (options: unknown, section: string): RedisOptions {
  return parsePluginOptions(redisOptionsSchema, options, section)
}

/** Where the options connect, without the password. */
export function redisAddress (options: RedisOptions): string {
  if (options.url === undefined) return `redis://${options.host}:${options.port}/${options.db}`
  const url = new URL(options.url)
  return `${url.protocol}//${url.host}${url.pathname}`
}

export class RedisConnection {
  readonly client: Redis
  /** Where it connects, without the password. */
  readonly address: string
  private lastError = ''
  private ready = false
  private everReady = false
  private closing = false

  /** `what` names the plugin in log lines and errors (`redis cache`). */
  constructor (options: RedisOptions, private readonly logger: Logger, private readonly what: string) {
    const shared = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Commands issued in one event-loop turn go out in one write.
      enableAutoPipelining: true,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 2000),
    }
    this.address = redisAddress(options)
    this.client = options.url !== undefined
      ? new Redis(options.url, shared)
      : new Redis({ ...shared, host: options.host, port: options.port, password: options.password, db: options.db })
    // ioredis emits 'error' on every failed attempt: keep the reason, and say once that Redis went.
    this.client.on('error', (error: Error) => { this.lastError = error.message })
    this.client.on('close', () => {
      if (!this.ready || this.closing) return
      this.ready = false
      this.logger.warn('REDIS_UNAVAILABLE', `${this.what}: lost the connection to Redis at ${this.address}; retrying, and what needs Redis fails until it is back`)
    })
    this.client.on('ready', () => {
      if (this.everReady) this.logger.info('REDIS_RECONNECTED', `${this.what}: Redis at ${this.address} is back`)
      this.ready = true
      this.everReady = true
    })
  }

  /** Connects once; a Redis that cannot be reached fails start-up, saying where and why. */
  async open (): Promise<void> {
    try {
      await this.client.connect()
    } catch (error) {
      this.client.disconnect()
      throw new RiptideError('RT_REDIS_UNAVAILABLE', `${this.what}: cannot reach Redis at ${this.address}: ${this.lastError !== '' ? this.lastError : String(error)}`, { cause: error })
    }
  }

  async close (): Promise<void> {
    this.closing = true
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect())
    } else {
      this.client.disconnect()
    }
  }
}

/**
 * Locks shared by hosts joined on Redis (`riptide/lock/<name>`): taken with SET NX PX by an owner
 * token of this worker, released only by that owner (by script), and released by Redis when the
 * lease runs out (`holdTimeout`, 1000 ms by default, as deepstream's), so an owner that died holds
 * nothing for long. While Redis is away, no lock can be taken.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { LockRegistry } from '../../native-free-core/plugins/locks/locks.js'

/** The key of lock `name`. */
export function lockKey (name: string): string { return `riptide/lock/${name}` }

/** KEYS: lock; ARGV: token. Deletes the lock if this token holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

interface LockScripts { riptideReleaseLock (key: string, token: string): Promise<number> }

export class RedisLockRegistry implements LockRegistry {
  readonly description: string
  private readonly token: string
  private readonly scripts: LockScripts

  constructor (private readonly redis: Redis, serverName: string, private readonly leaseMs = 1000) {
    this.token = `${serverName}:${randomUUID()}`
    this.description = `redis locks (lease ${leaseMs} ms)`
    redis.defineCommand('riptideReleaseLock', { numberOfKeys: 1, lua: RELEASE })
    this.scripts = redis as unknown as LockScripts
  }

  async get (name: string): Promise<boolean> {
    try {
      return await this.redis.set(lockKey(name), this.token, 'PX', this.leaseMs, 'NX') === 'OK'
    } catch {
      return false
    }
  }

  release (name: string): void {
    this.scripts.riptideReleaseLock(lockKey(name), this.token).catch(() => {})
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}
}

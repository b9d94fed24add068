/**
 * A lease on a key in Redis, held by one owner: taken with SET NX PX, renewed every second by its
 * owner and released only by it (both by script, comparing the owner's token). The value is
 * `<token>:<renewals>`, so that a host that finds the key taken can tell a lease still renewed
 * from one abandoned: it waits one renewal period and takes over only if the value did not change.
 */
import type { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'

/** How often an owner renews its lease, and how long a lease lasts unrenewed. */
export const LEASE_RENEW_MS = 1000
export const LEASE_MS = 3000

/** KEYS: lease key; ARGV: token, ms, renewals. Renews the lease if this token holds it; 1 if so. */
const RENEW_LEASE = `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
`
/** KEYS: lease key; ARGV: token. Deletes the lease if this token holds it. */
const RELEASE_LEASE = `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then return redis.call('DEL', KEYS[1]) end
return 0
`
/** KEYS: lease key; ARGV: the value seen before, new value, ms. Takes a lease nobody renewed (or that expired); 1 if taken. */
const TAKE_OVER_LEASE = `
local held = redis.call('GET', KEYS[1])
if held ~= false and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`

interface LeaseScripts {
  riptideRenewLease (key: string, token: string, ms: number, renewals: number): Promise<number>
  riptideReleaseLease (key: string, token: string): Promise<number>
  riptideTakeOverLease (key: string, seen: string, value: string, ms: number): Promise<number>
}

/** Adds the lease scripts to a connection (once per connection). */
export function defineLeaseScripts (redis: Redis): void {
  redis.defineCommand('riptideRenewLease', { numberOfKeys: 1, lua: RENEW_LEASE })
  redis.defineCommand('riptideReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE })
  redis.defineCommand('riptideTakeOverLease', { numberOfKeys: 1, lua: TAKE_OVER_LEASE })
}

export class Lease {
  private readonly token = randomUUID()
  private readonly scripts: LeaseScripts
  private timer: NodeJS.Timeout | null = null
  private renewals = 0
  private lost = false

  /** `onLost` is told once each time another owner is found holding the key. */
  constructor (private readonly redis: Redis, readonly key: string, private readonly onLost: () => void) {
    this.scripts = redis as unknown as LeaseScripts
  }

  /**
   * Takes the lease: at once if the key is free, after one renewal period if the owner seen
   * stopped renewing; resolves false if a live owner holds it. Renews it from then on.
   */
  async take (): Promise<boolean> {
    const value = `${this.token}:0`
    if (await this.redis.set(this.key, value, 'PX', LEASE_MS, 'NX') !== 'OK') {
      const seen = await this.redis.get(this.key) ?? ''
      await new Promise((resolve) => setTimeout(resolve, LEASE_RENEW_MS + LEASE_RENEW_MS / 5))
      if (await this.scripts.riptideTakeOverLease(this.key, seen, value, LEASE_MS) !== 1) return false
    }
    this.timer = setInterval(() => { void this.renew() }, LEASE_RENEW_MS)
    return true
  }

  private async renew (): Promise<void> {
    try {
      const renewals = ++this.renewals
      // Lost while Redis was away for longer than the lease: take it again if nobody else has.
      const held = await this.scripts.riptideRenewLease(this.key, this.token, LEASE_MS, renewals) === 1 ||
        await this.redis.set(this.key, `${this.token}:${renewals}`, 'PX', LEASE_MS, 'NX') === 'OK'
      if (!held && !this.lost) this.onLost()
      this.lost = !held
    } catch {
      // Redis is away: its connection says so, and the next renewal tries again.
    }
  }

  /** Stops renewing and deletes the key if this owner still holds it. */
  async release (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.scripts.riptideReleaseLease(this.key, this.token).catch(() => {})
  }
}

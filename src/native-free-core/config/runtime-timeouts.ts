/**
 * The timeouts a custom plugin may change while the server runs (`PluginApi.timeouts`): one
 * object per worker, read at each use, set on every worker through the cluster. The loaded config
 * itself is never written.
 */
import type { RiptideConfig } from './schema.js'

export const TIMEOUT_KEYS = ['rpc.ackTimeout', 'rpc.responseTimeout', 'record.cacheRetrievalTimeout', 'record.storageRetrievalTimeout', 'listen.responseTimeout'] as const

/** Timeouts a plugin may change while the server runs. */
export type TimeoutKey = typeof TIMEOUT_KEYS[number]

export class RuntimeTimeouts {
  private readonly values: Record<TimeoutKey, number>

  constructor (config: RiptideConfig) {
    this.values = {
      'rpc.ackTimeout': config.rpc.ackTimeout,
      'rpc.responseTimeout': config.rpc.responseTimeout,
      'record.cacheRetrievalTimeout': config.record.cacheRetrievalTimeout,
      'record.storageRetrievalTimeout': config.record.storageRetrievalTimeout,
      'listen.responseTimeout': config.listen.responseTimeout,
    }
  }

  static isKey (key: string): key is TimeoutKey {
    return (TIMEOUT_KEYS as readonly string[]).includes(key)
  }

  get (key: TimeoutKey): number { return this.values[key] }

  set (key: TimeoutKey, milliseconds: number): void { this.values[key] = milliseconds }
}

/**
 * The built-in plugins that sit on native packages, handed to the core at
 * start-up (the core itself imports no native package).
 */
import { resolve } from 'node:path'
import type { BuiltinTable } from '../native-free-core/builtins.js'
import type { PluginRef } from '../native-free-core/config/schema.js'
import { ConfigError } from '../native-free-core/errors.js'
import { LmdbRecords } from './lmdb/lmdb-records.js'
import { RedisCache } from './redis/redis-cache.js'

function lmdbPath (ref: PluginRef | PluginRef[]): string | null {
  if (Array.isArray(ref) || ref.type !== 'lmdb') return null
  return resolve(typeof ref.options?.path === 'string' ? ref.options.path : './data')
}

export const NATIVE_BUILTINS: BuiltinTable = {
  cache: {
    lmdb: (ref) => new LmdbRecords(ref.options, 'cache'),
    redis: (ref, context) => new RedisCache(ref.options, context.logger),
  },
  storage: {
    lmdb: (ref, context) => {
      const path = lmdbPath(ref)
      if (path !== null && path === lmdbPath(context.config.cache)) {
        throw new ConfigError(`storage.options.path: ${path} is also the lmdb cache's path; the lmdb cache is already durable, so set storage.type to none, or give storage another path`)
      }
      return new LmdbRecords(ref.options, 'storage')
    },
  },
}

import type { Plugin, PluginOptions } from '../plugin.js'
import type { NamespacedLogger } from '../logger/logger.js'
import type { SessionListener } from '../../connection/sessions.js'
import type { HttpHandler } from '../../http/http-routes.js'
import type { RiptideConfig } from '../../config/schema.js'
import type { JSONValue } from '../../protocol/message.js'
import type { StoredRecord } from '../cache/cache.js'

import type { TimeoutKey } from '../../config/runtime-timeouts.js'

export type { TimeoutKey }

/**
 * What a custom plugin can do with the server. It is the only surface a
 * plugin sees: no handler, socket or registry internals.
 */
export interface PluginApi {
  readonly logger: NamespacedLogger
  readonly serverName: string
  /** The config as loaded; timeouts changed at run time are read with `timeouts.get`. */
  readonly config: Readonly<RiptideConfig>
  readonly configDir: string
  readonly sessions: {
    /** Closes every connection of a user on every worker; resolves how many were closed. */
    closeUser (userId: string, reason?: string): Promise<number>
    /** Connections of a user on every worker. */
    count (userId: string): Promise<number>
    onLogin (listener: SessionListener): void
    onLogout (listener: SessionListener): void
  }
  readonly timeouts: {
    get (key: TimeoutKey): number
    /** Takes effect on every worker for the next request, subscription or record read. */
    set (key: TimeoutKey, milliseconds: number): void
  }
  readonly http: {
    /** Serves GET requests under a path prefix on the server's port. */
    get (prefix: string, handler: HttpHandler): void
    /** Serves POST requests (JSON bodies) under a path prefix. */
    post (prefix: string, handler: HttpHandler): void
  }
  /** Events, sent as the server: permission rules do not apply, and every subscriber gets them. */
  readonly events: {
    emit (name: string, data?: JSONValue): void
  }
  /**
   * Records, read and written as the server (permission rules do not apply). Writes take the next
   * version, reach subscribers like a client's, and resolve once acknowledged (durable where the
   * cache is). Failures reject with a RiptideError naming the record.
   */
  readonly records: {
    get (name: string): Promise<StoredRecord | null>
    /** Replaces the record's data, or with `path`, sets one path in it. */
    set (name: string, data: JSONValue, path?: string): Promise<void>
    delete (name: string): Promise<void>
  }
  readonly permissions: {
    /** Reads the permission rules again (from their file, if they have one) on every worker; rejects, keeping the rules in force, when they are invalid. */
    reload (): Promise<void>
  }
}

/** A custom plugin module's default export. */
export type CustomPluginClass = new (options: PluginOptions, api: PluginApi) => Plugin

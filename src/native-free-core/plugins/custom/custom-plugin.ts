import type { Plugin, PluginOptions } from '../plugin.js'
import type { NamespacedLogger } from '../logger/logger.js'
import type { SessionListener } from '../../connection/sessions.js'
import type { HttpHandler } from '../../http/http-routes.js'
import type { RiptideConfig } from '../../config/schema.js'

/** Timeouts a plugin may change while the server runs. */
export type TimeoutKey =
  | 'rpc.ackTimeout' | 'rpc.responseTimeout'
  | 'record.cacheRetrievalTimeout' | 'record.storageRetrievalTimeout'
  | 'listen.responseTimeout'

/**
 * What a custom plugin can do with the server. It is the only surface a
 * plugin sees: no handler, socket or registry internals.
 */
export interface PluginApi {
  readonly logger: NamespacedLogger
  readonly serverName: string
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
}

/** A custom plugin module's default export. */
export type CustomPluginClass = new (options: PluginOptions, api: PluginApi) => Plugin

/**
 * riptide's public surface: the server factory, the plugin interfaces and
 * the types a plugin author needs.
 */
import { RiptideServer, type HttpServerKind } from './native-free-core/server/server.js'
import { defaultConfig, loadConfigFile, validateConfig, type LoadedConfig } from './native-free-core/config/loader.js'
import type { HttpServerAdapter } from './native-free-core/http/http-routes.js'
import { createHttpServer, startNativeServer } from './native-adapters/native-server.js'
import type { Logger } from './native-free-core/plugins/logger/logger.js'

export { RiptideServer, defaultConfig, loadConfigFile, validateConfig }
export type { LoadedConfig, HttpServerKind, HttpServerAdapter }
export type { Plugin, PluginContext, PluginOptions, TaskPool } from './native-free-core/plugins/plugin.js'
export type { PluginApi, TimeoutKey } from './native-free-core/plugins/custom/custom-plugin.js'
export type { Authentication, AuthResult, HandshakeData } from './native-free-core/plugins/auth/authentication.js'
export type { Permission, PermissionRequest, RecordReader } from './native-free-core/plugins/permission/permission.js'
export type { Cache, Storage, StoredRecord } from './native-free-core/plugins/cache/cache.js'
export type { Logger, NamespacedLogger, LogLevel, LogMeta } from './native-free-core/plugins/logger/logger.js'
export type { Monitoring } from './native-free-core/plugins/monitoring/monitoring.js'
export type { ClusterNode } from './native-free-core/plugins/cluster-node/cluster-node.js'
export type { ClusterRegistry } from './native-free-core/plugins/cluster-registry/cluster-registry.js'
export type { LockRegistry } from './native-free-core/plugins/locks/locks.js'
export type { StateRegistry, StateRegistryFactory } from './native-free-core/plugins/state-registry/state-registry.js'
export type { SubscriptionRegistry, SubscriptionRegistryFactory } from './native-free-core/plugins/subscription-registry/subscription-registry.js'
export type { ConnectionEndpoint, EndpointHost } from './native-free-core/plugins/endpoint/endpoint.js'
export type { Message, JSONValue, JSONObject } from './native-free-core/protocol/message.js'
export type { SessionEvent } from './native-free-core/connection/sessions.js'
export type { HttpRequest, HttpResponse, HttpHandler } from './native-free-core/http/http-routes.js'
export { RiptideError, ERROR_CODES } from './native-free-core/errors.js'
/** For plugin authors: deepstream's protocol numbers, the base class of plugins that hold nothing, log levels. */
export {
  TOPIC, CONNECTION_ACTION, AUTH_ACTION, EVENT_ACTION, RECORD_ACTION, RPC_ACTION, PRESENCE_ACTION, PARSER_ACTION,
  actionName, topicName, isErrorMessage,
} from './native-free-core/protocol/constants.js'
export { SimplePlugin } from './native-free-core/plugins/plugin.js'
/** Building blocks for registries of one's own: riptide's subscription registries over any state registry and cluster node. */
export { LocalSubscriptionRegistryFactory } from './native-free-core/plugins/subscription-registry/local-subscription-registry.js'
export { LOG_LEVEL_NUMBERS, parseLogLevel } from './native-free-core/plugins/logger/logger.js'
export { LmdbRecords } from './native-adapters/lmdb/lmdb-records.js'
export { hashPassword } from './native-free-core/plugins/auth/file-authentication.js'

export { createHttpServer }

/** Starts a server in this thread from a loaded config (see loadConfigFile / defaultConfig). */
export function startServer (loaded: LoadedConfig, options: { logger?: Logger } = {}): Promise<RiptideServer> {
  return startNativeServer(loaded, options)
}

/**
 * The orchestrator: builds every plugin from the config in dependency order,
 * wires the topic handlers and endpoints, listens on one port, and closes
 * everything in reverse. The HTTP server adapter (uWebSockets.js or ws) is
 * injected, so this module needs no native package.
 */
import type { LoadedConfig } from './config/loader.js'
import { isBuiltinEndpoint, socketEndpointOptions, type PluginRef } from './config/schema.js'
import type { Plugin, TaskPool } from './plugins/plugin.js'
import { LOG_LEVEL_NUMBERS, parseLogLevel, type Logger } from './plugins/logger/logger.js'
import type { Authentication } from './plugins/auth/authentication.js'
import { CombinedAuthentication } from './plugins/auth/authentication.js'
import type { Permission } from './plugins/permission/permission.js'
import type { Cache, Storage } from './plugins/cache/cache.js'
import type { Monitoring } from './plugins/monitoring/monitoring.js'
import type { ClusterNode } from './plugins/cluster-node/cluster-node.js'
import type { ClusterRegistry } from './plugins/cluster-registry/cluster-registry.js'
import type { LockRegistry } from './plugins/locks/locks.js'
import type { StateRegistryFactory } from './plugins/state-registry/state-registry.js'
import type { SubscriptionRegistryFactory } from './plugins/subscription-registry/subscription-registry.js'
import type { ConnectionEndpoint, EndpointHost } from './plugins/endpoint/endpoint.js'
import type { CustomPluginClass } from './plugins/custom/custom-plugin.js'
import { createPluginApi } from './plugins/custom/plugin-api.js'
import { Lifecycle } from './plugins/lifecycle.js'
import { createLogger, createPlugin as createAnyPlugin, resolveServerName, type BuiltinTable, type ClusterContext } from './builtins.js'
import { loadPluginClass } from './plugins/loader.js'
import { Sessions } from './connection/sessions.js'
import { MessageProcessor } from './connection/message-processor.js'
import { SocketEndpoint } from './connection/connection-handler.js'
import type { WebSocketRoute } from './connection/transport.js'
import { HttpRoutes, type HttpServerAdapter } from './http/http-routes.js'
import { JifEndpoint } from './http/jif-endpoint.js'
import { controlMessage } from './cluster/control.js'
import { RuntimeTimeouts } from './config/runtime-timeouts.js'
import type { CoreServices, TopicHandler } from './handlers/services.js'
import { RecordHandler } from './handlers/record-handler.js'
import { EventHandler } from './handlers/event-handler.js'
import { RpcHandler } from './handlers/rpc-handler.js'
import { PresenceHandler } from './handlers/presence-handler.js'
import { TOPIC } from './protocol/constants.js'
import { protobufCodec } from './protocol/protobuf-codec.js'
import { jsonCodec } from './protocol/json-codec.js'
import { nativeCodec } from './protocol/native-codec.js'
import type { Codec } from './protocol/message.js'
import { RiptideError, errorMessage } from './errors.js'
import { ClusterQueries } from './cluster/queries.js'
import { createHash, timingSafeEqual } from 'node:crypto'
import { loadConfigFile } from './config/loader.js'
import type { HttpHandler } from './http/http-routes.js'
import type { Message } from './protocol/message.js'

/** The codec of each built-in WebSocket endpoint type. */
const SOCKET_CODECS: Readonly<Record<'ws-binary' | 'ws-json' | 'ws-native', Codec>> = { 'ws-binary': protobufCodec, 'ws-json': jsonCodec, 'ws-native': nativeCodec }

/**
 * Fan-out encodes a message once per codec index, so a custom endpoint's codec gets an index of its
 * own (the built-ins hold 0 to 2), whatever index it declares.
 */
const customCodecs = new Map<Codec, Codec>()
function ownCodec (codec: Codec): Codec {
  if (Object.values(SOCKET_CODECS).includes(codec)) return codec
  let indexed = customCodecs.get(codec)
  if (indexed === undefined) {
    indexed = Object.create(codec, { index: { value: Object.keys(SOCKET_CODECS).length + customCodecs.size } }) as Codec
    customCodecs.set(codec, indexed)
  }
  return indexed
}

export type HttpServerKind = 'uws' | 'node'

export interface ServerOptions {
  /** Creates the HTTP server adapter of the configured kind. */
  createHttpServer (kind: HttpServerKind, logger: Logger): HttpServerAdapter | Promise<HttpServerAdapter>
  /** Replaces the configured logger (tests use a silent one). */
  logger?: Logger
  /** Built-in plugins on native packages (LMDB), which this module must not import. */
  builtins?: BuiltinTable
  /** Also listen here (a worker's own port, so tests can pick a worker). */
  ownPort?: { host: string, port: number }
  /** Told the number of open WebSocket connections whenever it changes. */
  onConnectionCount?: (count: number) => void
  /** Where plugins run CPU-heavy work (closed with the server). */
  tasks?: TaskPool
}

export class RiptideServer {
  private closing: Promise<void> | null = null

  private constructor (
    readonly port: number,
    /** The port of `ServerOptions.ownPort`, or null. */
    readonly ownPort: number | null,
    readonly serverName: string,
    readonly services: CoreServices,
    private readonly adapter: HttpServerAdapter,
    private readonly teardown: () => Promise<void>,
    /** Reloads the permission rules from the config (file) on this server; rejects and keeps the old ones if they do not load. */
    readonly reloadPermissions: () => Promise<void>,
  ) {}

  /** Starts a server; on failure everything started is closed and the error is thrown. */
  static async start (loaded: LoadedConfig, options: ServerOptions): Promise<RiptideServer> {
    const { config, configDir } = loaded
    const createPlugin = <T extends Plugin>(kind: Parameters<typeof createAnyPlugin>[0], ref: PluginRef, context: ClusterContext): Promise<T> =>
      createAnyPlugin<T>(kind, ref, context, options.builtins)
    const serverName = resolveServerName(config.serverName)
    const bootLogger = options.logger ?? createLogger(config.logger, config.logLevel)
    const lifecycle = new Lifecycle(config.dependencyInitializationTimeout, bootLogger)
    let adapter: HttpServerAdapter | null = null
    const socketEndpoints: SocketEndpoint[] = []
    const handlers = new Map<number, TopicHandler>()
    const cleanups: Array<() => void> = []
    const teardown = async (): Promise<void> => {
      for (const cleanup of cleanups) cleanup()
      await adapter?.close()
      for (const endpoint of socketEndpoints) endpoint.close()
      for (const handler of handlers.values()) await handler.close()
      await lifecycle.closeAll()
      await options.tasks?.close()
    }
    try {
      const base = { serverName, config, configDir, tasks: options.tasks } as const
      let logger = bootLogger
      if (options.logger === undefined && (config.logger.path !== undefined || (config.logger.name !== undefined && config.logger.name !== 'pino'))) {
        logger = await createPlugin<Logger>('logger', config.logger, { ...base, logger: bootLogger } as ClusterContext)
        logger.setLogLevel(LOG_LEVEL_NUMBERS[parseLogLevel(config.logLevel) ?? 'info'])
      }
      await lifecycle.start('logger', logger)
      for (const warning of loaded.warnings) logger.warn('CONFIG_WARNING', warning)
      const context = { ...base, logger } as ClusterContext
      const monitoring = await lifecycle.start('monitoring', await createMonitoring(config.monitoring, (ref) => createPlugin<Monitoring>('monitoring', ref, context)))
      const cache = await lifecycle.start('cache', await createPlugin<Cache>('cache', config.cache, context))
      if (cache.setIfVersion === undefined) {
        logger.warn('CACHE_WITHOUT_COMPARE_AND_SET', `${cache.description} cannot compare-and-set: record versions are decided under a lock per record shared by this host's workers; other processes writing the same cache are not covered`)
      }
      const storage = await lifecycle.start('storage', await createPlugin<Storage>('storage', config.storage, context))
      const strategies: Authentication[] = []
      for (const ref of Array.isArray(config.auth) ? config.auth : [config.auth]) {
        const options = Array.isArray(config.auth) && config.auth.length > 1 ? { reportInvalidParameters: false, ...ref.options } : ref.options
        strategies.push(await lifecycle.start('auth', await createPlugin<Authentication>('auth', { ...ref, options }, context)))
      }
      const permission = await lifecycle.start('permission', await createPlugin<Permission>('permission', config.permission, context))
      const clusterNode = await lifecycle.start('clusterNode', await createPlugin<ClusterNode>('clusterNode', config.clusterNode, context))
      // The registries reach other nodes through whichever cluster node the config chose.
      const nodeContext = { ...context, clusterNode } as ClusterContext
      const clusterRegistry = await lifecycle.start('clusterRegistry', await createPlugin<ClusterRegistry>('clusterRegistry', config.clusterRegistry, nodeContext))
      const locks = await lifecycle.start('locks', await createPlugin<LockRegistry>('locks', config.locks, nodeContext))
      const states = await lifecycle.start('clusterStates', await createPlugin<StateRegistryFactory>('clusterStates', config.clusterStates, nodeContext))
      const clusterContext: ClusterContext = { ...context, clusterNode, states, monitoring }
      const subscriptions = await lifecycle.start('subscriptions', await createPlugin<SubscriptionRegistryFactory>('subscriptions', config.subscriptions, clusterContext))
      const sessions = new Sessions()
      const services: CoreServices = { config, logger, monitoring, permission, cache, storage, clusterNode, locks, clusterRegistry, states, subscriptions, sessions, timeouts: new RuntimeTimeouts(config) }

      const features = config.enabledFeatures
      if (features.record) handlers.set(TOPIC.RECORD, new RecordHandler(services))
      if (features.event) handlers.set(TOPIC.EVENT, new EventHandler(services))
      if (features.rpc) handlers.set(TOPIC.RPC, new RpcHandler(services))
      if (features.presence) handlers.set(TOPIC.PRESENCE, new PresenceHandler(services))

      const authentication = new CombinedAuthentication(strategies)
      const processor = new MessageProcessor(services, handlers)
      const { options: httpOptions } = config.httpServer
      const routes = new HttpRoutes(httpOptions)
      const websockets: WebSocketRoute[] = []
      const counter = connectionCounter((count) => {
        options.onConnectionCount?.(count)
        monitoring.onConnectionCount?.(count)
      })
      const host: EndpointHost = {
        routes,
        addWebSocketRoute: (route) => { websockets.push(counter(route)) },
        createSocketRoute: (name, codec, socketOptions) => {
          const endpoint = new SocketEndpoint(name, ownCodec(codec), socketEndpointOptions.parse(socketOptions ?? {}), { services, authentication, processor, handlers })
          socketEndpoints.push(endpoint)
          return endpoint
        },
      }
      for (const entry of config.connectionEndpoints) {
        if (entry === null) continue
        if (!isBuiltinEndpoint(entry)) {
          const custom = await lifecycle.start('connectionEndpoint', await createPlugin<ConnectionEndpoint>('plugin', entry as PluginRef, clusterContext))
          custom.attach(host)
        } else if (entry.type === 'http') {
          new JifEndpoint(entry.options, authentication, processor, monitoring).register(routes)
        } else {
          host.addWebSocketRoute(host.createSocketRoute(entry.type, SOCKET_CODECS[entry.type], entry.options))
        }
      }

      const queries = new ClusterQueries(clusterNode, clusterRegistry)
      cleanups.push(() => queries.close())
      monitoring.attach?.({
        get: (prefix, handler) => routes.get(prefix, handler),
        ask: (channel, message) => queries.ask(channel, message),
        answer: (channel, answer) => queries.answer(channel, answer),
        serverName: clusterNode.serverName,
      })
      const reloadPermissionsHere = permissionReloader(loaded, permission, logger)
      const reloaded = controlMessage({ kind: 'done' })
      queries.answer(RELOAD_PERMISSIONS, async () => { await reloadPermissionsHere(); return reloaded })
      /** Reloads here, then on every other worker; resolves once all have the new rules, rejects if any refused them. */
      const reloadEverywhere = async (): Promise<void> => {
        await reloadPermissionsHere()
        const refused = (await queries.ask(RELOAD_PERMISSIONS, reloaded)).find((answer) => answer.isError === true)
        if (refused !== undefined) throw new RiptideError('RT_PERMISSION_RULES_INVALID', `another worker kept its rules: ${String(refused.data)}`)
      }
      const api = createPluginApi({ services, routes, configDir, queries, processor, reloadPermissions: reloadEverywhere })
      for (const [key, ref] of Object.entries(config.plugins)) {
        if (ref === null) continue
        const Class = await loadPluginClass('plugin', ref, configDir)
        if (Class === null) throw new RiptideError('RT_PLUGIN_NOT_FOUND', `plugins.${key}: give a path or an npm name`)
        await lifecycle.start(`plugins.${key}`, new (Class as unknown as CustomPluginClass)(ref.options, api))
      }

      routes.get(httpOptions.healthCheckPath, () => ({ status: 200, body: '' }))
      if (config.admin.token !== undefined) {
        routes.post(`${config.admin.path}/permissions/reload`, adminRoute(config.admin.token, reloadEverywhere))
      }
      const kind: HttpServerKind = config.httpServer.type === 'node' || config.httpServer.type === 'ws' ? 'node' : 'uws'
      adapter = await options.createHttpServer(kind, logger)
      const port = await adapter.listen({
        host: httpOptions.host,
        port: httpOptions.port,
        routes,
        websockets,
        maxBodySize: httpOptions.maxMessageSize,
        headers: httpOptions.headers,
      })
      let ownPort: number | null = null
      if (options.ownPort !== undefined) {
        if (adapter.listenAlso === undefined) throw new RiptideError('RT_NOT_SUPPORTED', `${adapter.description} cannot listen on a second port`)
        ownPort = await adapter.listenAlso(options.ownPort.host, options.ownPort.port)
      }
      logger.info('SERVER_STARTED', `riptide ${serverName} listening on ${httpOptions.host}:${port} (${adapter.description})`)
      return new RiptideServer(port, ownPort, serverName, services, adapter, teardown, reloadPermissionsHere)
    } catch (error) {
      await teardown()
      throw error
    }
  }

  /** Stops listening and drops every connection at once, leaving plugins as they are: a crashing worker's last act. */
  async closeSockets (): Promise<void> {
    if (this.adapter.forceClose !== undefined) this.adapter.forceClose()
    else await this.adapter.close()
  }

  /** Stops accepting, closes every connection, then every plugin in reverse start order. Idempotent. */
  close (): Promise<void> {
    this.closing ??= this.teardown()
    return this.closing
  }
}

/** Wraps WebSocket routes so that `report` hears the number of open connections. */
function connectionCounter (report: (count: number) => void): (route: WebSocketRoute) => WebSocketRoute {
  let open = 0
  return (route) => ({
    path: route.path,
    maxMessageSize: route.maxMessageSize,
    idleTimeoutSeconds: route.idleTimeoutSeconds,
    maxSendBuffer: route.maxSendBuffer,
    open: (transport, handshake) => {
      const session = route.open(transport, handshake)
      report(++open)
      return {
        onMessage: (frame, isBinary) => session.onMessage(frame, isBinary),
        onClose: () => {
          report(--open)
          session.onClose()
        },
        checkSendBuffer: session.checkSendBuffer?.bind(session),
      }
    },
  })
}

async function createMonitoring (ref: PluginRef | PluginRef[], create: (ref: PluginRef) => Promise<Monitoring>): Promise<Monitoring> {
  const refs = Array.isArray(ref) ? ref : [ref]
  const all: Monitoring[] = []
  for (const one of refs) all.push(await create(one))
  if (all.length === 1) return all[0]
  return combineMonitoring(all)
}

function combineMonitoring (all: Monitoring[]): Monitoring {
  const each = (fn: (m: Monitoring) => void): void => { for (const m of all) fn(m) }
  const plugin: Plugin = {
    description: `monitoring (${all.map((m) => m.description).join(', ')})`,
    init: async () => { for (const m of all) await m.init?.() },
    whenReady: async () => { await Promise.all(all.map((m) => m.whenReady())) },
    close: async () => { await Promise.all(all.map((m) => m.close())) },
  }
  return {
    ...plugin,
    onErrorLog: (...args) => each((m) => m.onErrorLog(...args)),
    onLogin: (...args) => each((m) => m.onLogin(...args)),
    onMessageReceived: (...args) => each((m) => m.onMessageReceived(...args)),
    onMessageSend: (...args) => each((m) => m.onMessageSend(...args)),
    onBroadcast: (...args) => each((m) => m.onBroadcast(...args)),
    onHandled: (...args) => each((m) => m.onHandled?.(...args)),
    onDelivered: (...args) => each((m) => m.onDelivered?.(...args)),
    attach: (host) => each((m) => m.attach?.(host)),
    onConnectionCount: (count) => each((m) => m.onConnectionCount?.(count)),
  }
}

const RELOAD_PERMISSIONS = 'admin/reload-permissions'

/** Reads the permission options as the config now says (the file again, when there is one) and reloads the plugin. */
function permissionReloader (loaded: LoadedConfig, permission: Permission, logger: Logger): () => Promise<void> {
  return async () => {
    if (permission.reload === undefined) throw new RiptideError('RT_NOT_SUPPORTED', `${permission.description} cannot reload its rules`)
    const options = loaded.file === null ? loaded.config.permission.options : loadConfigFile(loaded.file).config.permission.options
    await permission.reload(options)
    logger.info('PERMISSIONS_RELOADED', `${permission.description}: rules reloaded`)
  }
}

/** A POST route guarded by `authorization: Bearer <token>`, answering 200, or 400 with the error. */
function adminRoute (token: string, action: () => Promise<void>): HttpHandler {
  const expected = createHash('sha256').update(`Bearer ${token}`).digest()
  return async (request) => {
    const given = createHash('sha256').update(request.headers.authorization ?? '').digest()
    if (!timingSafeEqual(given, expected)) return { status: 401, body: JSON.stringify({ error: 'a valid admin token is required' }) }
    try {
      await action()
      return { status: 200, body: JSON.stringify({ reloaded: true }) }
    } catch (error) {
      return { status: 400, body: JSON.stringify({ error: errorMessage(error) }) }
    }
  }
}

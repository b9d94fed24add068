/**
 * The orchestrator: builds every plugin from the config in dependency order (core-plugins.ts), the
 * record store and the topic handlers, the endpoints (endpoints.ts), the plugin API and custom
 * plugins, and the admin routes; listens on one port; closes everything in reverse. The HTTP
 * server adapter (uWebSockets.js or ws) and built-ins on native packages are injected, so this
 * module needs no native package: src/native-adapters/native-server.ts is where they are chosen.
 */
import type { LoadedConfig } from '../config/loader.js'
import type { RiptideConfig } from '../config/schema.js'
import type { TaskPool } from '../plugins/plugin.js'
import type { Logger } from '../plugins/logger/logger.js'
import type { CustomPluginClass } from '../plugins/custom/custom-plugin.js'
import { createPluginApi } from './plugin-api.js'
import { Lifecycle } from '../plugins/lifecycle.js'
import { loadPluginClass } from '../plugins/loader.js'
import { createLogger, resolveServerName, type BuiltinTable } from '../builtins.js'
import { MessageProcessor } from '../endpoints/message-processor.js'
import type { HttpServerAdapter } from '../http/http-routes.js'
import { ClusterQueries } from '../cluster/queries.js'
import type { CoreServices, TopicHandler } from '../handlers/services.js'
import { RecordHandler } from '../handlers/record-handler.js'
import { EventHandler } from '../handlers/event-handler.js'
import { RpcHandler } from '../handlers/rpc-handler.js'
import { PresenceHandler } from '../handlers/presence-handler.js'
import { RecordStore } from '../records/record-store.js'
import { TOPIC } from '../protocol/constants.js'
import { RiptideError } from '../errors.js'
import { startCorePlugins } from './core-plugins.js'
import { startEndpoints, type Endpoints } from './endpoints.js'
import { adminRoute, permissionReloading } from './admin.js'

/** The HTTP servers riptide has: uWebSockets.js, or Node's http module with the ws library. */
export type HttpServerKind = 'uws' | 'node'
/** `httpServer.type` as configured: `default` is uWS where its native binary loads, Node http + ws elsewhere. */
export type HttpServerType = RiptideConfig['httpServer']['type']

export interface ServerOptions {
  /** Creates the HTTP server adapter for the configured `httpServer.type`. */
  createHttpServer (type: HttpServerType, logger: Logger): HttpServerAdapter | Promise<HttpServerAdapter>
  /** Replaces the configured logger (tests use a silent one). */
  logger?: Logger
  /** Built-in plugins on native packages (LMDB) and of the in-process cluster, which the core does not choose. */
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
    const serverName = resolveServerName(config.serverName)
    const bootLogger = options.logger ?? createLogger(config.logger, config.logLevel)
    const lifecycle = new Lifecycle(config.dependencyInitializationTimeout, bootLogger)
    let adapter: HttpServerAdapter | null = null
    let endpoints: Endpoints | null = null
    let store: RecordStore | null = null
    let queries: ClusterQueries | null = null
    const handlers = new Map<number, TopicHandler>()
    const teardown = async (): Promise<void> => {
      queries?.close()
      await adapter?.close()
      endpoints?.close()
      for (const handler of handlers.values()) await handler.close()
      store?.close()
      await lifecycle.closeAll()
      await options.tasks?.close()
    }
    try {
      const plugins = await startCorePlugins(loaded, { serverName, bootLogger, loggerGiven: options.logger !== undefined, builtins: options.builtins, tasks: options.tasks }, lifecycle)
      const { services } = plugins
      const { logger, monitoring, permission, clusterNode } = services

      // Records are read through one store: by the record handler, and by permission rules that look at records.
      const records = new RecordStore(services.cache, services.storage, config.record, services.locks, services.timeouts)
      store = records
      permission.setRecordReader?.({ read: (name) => records.load(name) })
      const features = config.enabledFeatures
      if (features.record) handlers.set(TOPIC.RECORD, new RecordHandler(services, records))
      if (features.event) handlers.set(TOPIC.EVENT, new EventHandler(services))
      if (features.rpc) handlers.set(TOPIC.RPC, new RpcHandler(services))
      if (features.presence) handlers.set(TOPIC.PRESENCE, new PresenceHandler(services))
      const processor = new MessageProcessor(services, handlers)

      endpoints = await startEndpoints(config, {
        plugins, processor, handlers, lifecycle,
        onConnectionCount: (count) => {
          options.onConnectionCount?.(count)
          monitoring.onConnectionCount?.(count)
        },
      })
      const { routes } = endpoints

      const cluster = new ClusterQueries(clusterNode, services.clusterRegistry)
      queries = cluster
      monitoring.attach?.({
        get: (prefix, handler) => routes.get(prefix, handler),
        ask: (channel, message) => cluster.ask(channel, message),
        answer: (channel, answer) => cluster.answer(channel, answer),
        serverName: clusterNode.serverName,
      })
      const reloading = permissionReloading(loaded, permission, logger, cluster)
      const api = createPluginApi({ services, routes, configDir, queries: cluster, processor, reloadPermissions: reloading.everywhere })
      for (const [key, ref] of Object.entries(config.plugins)) {
        if (ref === null) continue
        const Class = await loadPluginClass('plugin', ref, configDir)
        if (Class === null) throw new RiptideError('RT_PLUGIN_NOT_FOUND', `plugins.${key}: give a path or an npm name`)
        await lifecycle.start(`plugins.${key}`, new (Class as unknown as CustomPluginClass)(ref.options, api))
      }

      const { options: httpOptions } = config.httpServer
      routes.get(httpOptions.healthCheckPath, () => ({ status: 200, body: '' }))
      if (config.admin.token !== undefined) {
        routes.post(`${config.admin.path}/permissions/reload`, adminRoute(config.admin.token, reloading.everywhere))
      }
      adapter = await options.createHttpServer(config.httpServer.type, logger)
      const port = await adapter.listen({
        host: httpOptions.host,
        port: httpOptions.port,
        routes,
        websockets: endpoints.websockets,
        maxBodySize: httpOptions.maxMessageSize,
        headers: httpOptions.headers,
      })
      let ownPort: number | null = null
      if (options.ownPort !== undefined) {
        if (adapter.listenAlso === undefined) throw new RiptideError('RT_NOT_SUPPORTED', `${adapter.description} cannot listen on a second port`)
        ownPort = await adapter.listenAlso(options.ownPort.host, options.ownPort.port)
      }
      logger.info('SERVER_STARTED', `riptide ${serverName} listening on ${httpOptions.host}:${port} (${adapter.description})`)
      return new RiptideServer(port, ownPort, serverName, services, adapter, teardown, reloading.here)
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

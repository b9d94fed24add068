/**
 * The connection endpoints of one server: the built-in WebSocket endpoints (protobuf, JSON and the
 * native protocol), JIF over HTTP, and custom endpoint plugins, all on one set of HTTP routes and
 * WebSocket routes that the HTTP server adapter then serves.
 */
import type { RiptideConfig } from '../config/schema.js'
import { isBuiltinEndpoint, socketEndpointOptions, type PluginRef } from '../config/schema.js'
import type { ConnectionEndpoint, EndpointHost } from '../plugins/endpoint/endpoint.js'
import type { Lifecycle } from '../plugins/lifecycle.js'
import type { TopicHandler } from '../handlers/services.js'
import { SocketEndpoint } from '../endpoints/socket-endpoint.js'
import type { MessageProcessor } from '../endpoints/message-processor.js'
import type { WebSocketRoute } from '../connection/transport.js'
import { HttpRoutes } from '../http/http-routes.js'
import { JifEndpoint } from '../endpoints/jif-endpoint.js'
import type { Codec } from '../protocol/message.js'
import { protobufCodec } from '../protocol/protobuf-codec.js'
import { jsonCodec } from '../protocol/json-codec.js'
import { nativeCodec } from '../protocol/native-codec.js'
import type { CorePlugins } from './core-plugins.js'

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

export interface Endpoints {
  readonly routes: HttpRoutes
  readonly websockets: WebSocketRoute[]
  /** Closes the endpoints (sessions, JIF deadlines); the adapter closes the sockets themselves. */
  close (): void
}

export interface EndpointDeps {
  readonly plugins: CorePlugins
  readonly processor: MessageProcessor
  readonly handlers: ReadonlyMap<number, TopicHandler>
  readonly lifecycle: Lifecycle
  /** Told the number of open WebSocket connections whenever it changes. */
  readonly onConnectionCount: (count: number) => void
}

/** Builds every endpoint the config lists; custom ones are started in the lifecycle. */
export async function startEndpoints (config: RiptideConfig, deps: EndpointDeps): Promise<Endpoints> {
  const { services, authentication } = deps.plugins
  const routes = new HttpRoutes(config.httpServer.options)
  const websockets: WebSocketRoute[] = []
  const socketEndpoints: SocketEndpoint[] = []
  const jifEndpoints: JifEndpoint[] = []
  const counted = connectionCounter(deps.onConnectionCount)
  const host: EndpointHost = {
    routes,
    addWebSocketRoute: (route) => { websockets.push(counted(route)) },
    createSocketRoute: (name, codec, socketOptions) => {
      const endpoint = new SocketEndpoint(name, ownCodec(codec), socketEndpointOptions.parse(socketOptions ?? {}), { services, authentication, processor: deps.processor, handlers: deps.handlers })
      socketEndpoints.push(endpoint)
      return endpoint
    },
  }
  const close = (): void => {
    for (const endpoint of socketEndpoints) endpoint.close()
    for (const endpoint of jifEndpoints) endpoint.close()
  }
  try {
    for (const entry of config.connectionEndpoints) {
      if (entry === null) continue
      if (!isBuiltinEndpoint(entry)) {
        const custom = await deps.lifecycle.start('connectionEndpoint', await deps.plugins.create<ConnectionEndpoint>('plugin', entry as PluginRef))
        custom.attach(host)
      } else if (entry.type === 'http') {
        const jif = new JifEndpoint(entry.options, authentication, deps.processor, services.monitoring)
        jif.register(routes)
        jifEndpoints.push(jif)
      } else {
        host.addWebSocketRoute(host.createSocketRoute(entry.type, SOCKET_CODECS[entry.type], entry.options))
      }
    }
  } catch (error) {
    close()
    throw error
  }
  return { routes, websockets, close }
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

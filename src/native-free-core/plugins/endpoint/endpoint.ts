import type { Plugin } from '../plugin.js'
import type { WebSocketRoute } from '../../connection/transport.js'
import type { HttpRoutes } from '../../http/http-routes.js'
import type { Codec } from '../../protocol/message.js'
import type { SocketEndpointOptions } from '../../config/schema.js'

/** What a connection endpoint can attach to: the server's one port and the core's socket pipeline. */
export interface EndpointHost {
  readonly routes: HttpRoutes
  addWebSocketRoute (route: WebSocketRoute): void
  /**
   * A WebSocket route that speaks the deepstream handshake and pipeline with the given codec;
   * options left out take the ws-binary defaults (`urlPath` names the path).
   */
  createSocketRoute (name: string, codec: Codec, options?: Partial<SocketEndpointOptions>): WebSocketRoute
}

/**
 * A connection endpoint (ws-binary, ws-json, ws-native, http, or a custom one) adds its
 * routes when attached; the server owns the port.
 */
export interface ConnectionEndpoint extends Plugin {
  attach (host: EndpointHost): void
}

/**
 * The HTTP server adapter on Node's http module and the `ws` library, for
 * Node lines where the uWebSockets.js binary cannot load. Same routes, same
 * behaviour, slower. Several workers share one port with SO_REUSEPORT where
 * Node offers it (`reusePort`, Node 22.12 and later).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket, type RawData } from 'ws'
import { clientAddress, upgradeHandshake, type HttpServerAdapter } from '../../native-free-core/http/http-routes.js'
import type { WebSocketRoute } from '../../native-free-core/connection/transport.js'
import { RiptideError } from '../../native-free-core/errors.js'

function headersOf (request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

/** Whether this Node can share a listening port between threads (`listen({ reusePort })`, Node 22.12 and 23.1 on). */
export function nodeHasReusePort (version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

type ListenOptions = Parameters<HttpServerAdapter['listen']>[0]

export class NodeHttpServer implements HttpServerAdapter {
  readonly description = 'node http + ws'
  private readonly httpServers: Server[] = []
  private options: ListenOptions | null = null
  private readonly byPath = new Map<string, { route: WebSocketRoute, wss: WebSocketServer }>()
  private readonly servers: WebSocketServer[] = []
  private readonly clients = new Set<WebSocket>()

  listen (options: ListenOptions): Promise<number> {
    this.options = options
    for (const route of options.websockets) {
      const wss = new WebSocketServer({ noServer: true, maxPayload: route.maxMessageSize, perMessageDeflate: false })
      this.servers.push(wss)
      this.byPath.set(route.path, { route, wss })
    }
    return this.listenOn(options.host, options.port)
  }

  listenAlso (host: string, port: number): Promise<number> {
    return this.listenOn(host, port)
  }

  private listenOn (host: string, port: number): Promise<number> {
    const options = this.options
    if (options === null) return Promise.reject(new RiptideError('RT_SERVER_STATE', 'listen() must come first'))
    const server = createServer((req, res) => { this.onRequest(req, res, options) })
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (request.url ?? '').split('?')[0]
      const target = this.byPath.get(path)
      if (target === undefined) {
        // As uWS answers an upgrade to a path with no WebSocket route.
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
        return
      }
      target.wss.handleUpgrade(request, socket, head, (ws) => this.onSocket(ws, request, target.route, options.headers))
    })
    this.httpServers.push(server)
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(new RiptideError('RT_LISTEN_FAILED', `cannot listen on ${host}:${port}: ${error.message}`, { cause: error })))
      // reusePort: every worker listens on the shared port, and the kernel spreads connections.
      server.listen({ port, host, ...(nodeHasReusePort() ? { reusePort: true } : {}) }, () => {
        const address = server.address()
        resolve(typeof address === 'object' && address !== null ? address.port : port)
      })
    })
  }

  private onSocket (ws: WebSocket, request: IncomingMessage, route: WebSocketRoute, copy: readonly string[]): void {
    this.clients.add(ws)
    const handshake = upgradeHandshake(headersOf(request), request.socket.remoteAddress ?? '', copy)
    // The core is told once that the socket is gone: when the server closes it (at once, as uWS
    // does, though ws keeps the socket until the peer answers the close frame), or when it closes.
    let ended = false
    const end = (): void => {
      if (ended) return
      ended = true
      session.onClose()
    }
    const session = route.open({
      send: (frame, isBinary) => {
        if (ws.readyState !== ws.OPEN) return false
        ws.send(frame, { binary: isBinary })
        return true
      },
      close: (code, reason) => {
        ws.close(code, reason.slice(0, 120))
        end()
      },
      bufferedAmount: () => ws.bufferedAmount,
    }, handshake)
    let idle: NodeJS.Timeout | null = null
    const resetIdle = (): void => {
      if (route.idleTimeoutSeconds === 0) return
      if (idle !== null) clearTimeout(idle)
      idle = setTimeout(() => ws.terminate(), route.idleTimeoutSeconds * 1000)
    }
    resetIdle()
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ended) return
      resetIdle()
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
      session.onMessage(isBinary ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.toString('utf8'), isBinary)
    })
    ws.on('error', () => ws.terminate())
    ws.once('close', () => {
      if (idle !== null) clearTimeout(idle)
      this.clients.delete(ws)
      end()
    })
  }

  private onRequest (req: IncomingMessage, res: ServerResponse, options: ListenOptions): void {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > options.maxBodySize) tooLarge = true
      else chunks.push(chunk)
    })
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413).end('Request body too large.')
        return
      }
      const method = req.method ?? 'GET'
      const headers = headersOf(req)
      Promise.resolve(options.routes.dispatch({
        method,
        path: (req.url ?? '/').split('?')[0],
        query: (req.url ?? '').split('?')[1] ?? '',
        headers,
        body: method === 'POST' ? Buffer.concat(chunks) : null,
        remoteAddress: clientAddress(headers, req.socket.remoteAddress ?? ''),
      })).then((response) => {
        res.writeHead(response.status, response.headers).end(response.body ?? '')
      }, (error: unknown) => res.writeHead(500).end(String(error)))
    })
  }

  async close (): Promise<void> {
    for (const ws of this.clients) ws.close(1001, 'server shutting down')
    for (const wss of this.servers) wss.close()
    const closed = this.httpServers.splice(0).map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }))
    // Upgraded sockets still hold their server open: end them too.
    for (const ws of this.clients) ws.terminate()
    await Promise.all(closed)
  }
}

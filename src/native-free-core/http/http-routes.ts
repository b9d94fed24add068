/**
 * Plain HTTP routes on the server's port, shared by both HTTP server
 * adapters: GET and POST by longest path prefix, CORS as deepstream does it,
 * JSON bodies only, 404 `Endpoint not found.` otherwise.
 */
import { errorMessage } from '../errors.js'
import type { HandshakeData } from '../plugins/auth/authentication.js'

export interface HttpRequest {
  readonly method: string
  readonly path: string
  /** The query string, without "?" ('' when none). */
  readonly query?: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer | null
  readonly remoteAddress: string
}

/**
 * The address a request or connection comes from, as both adapters report it: the
 * `x-forwarded-for` header when a proxy set it (as it came, every hop), else the socket's peer.
 */
export function clientAddress (headers: Readonly<Record<string, string>>, peer: string): string {
  return headers['x-forwarded-for'] ?? peer
}

/**
 * What a WebSocket upgrade hands to authentication, from its lower-case headers: the client's
 * address, the headers named in `keep` (every header when it is empty) and the referer.
 */
export function upgradeHandshake (headers: Record<string, string>, peer: string, keep: readonly string[]): HandshakeData {
  return {
    remoteAddress: clientAddress(headers, peer),
    headers: keep.length === 0 ? headers : Object.fromEntries(keep.filter((h) => h in headers).map((h) => [h, headers[h]])),
    referer: headers.referer ?? '',
  }
}

export interface HttpResponse {
  status: number
  body?: string
  headers?: Record<string, string>
}

export type HttpHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>

export interface CorsOptions {
  allowAllOrigins: boolean
  origins: string[]
}

const ALLOWED_METHODS = 'GET, POST, OPTIONS'
const ALLOWED_HEADERS = 'X-Requested-With, X-HTTP-Method-Override, Content-Type, Accept'

export class HttpRoutes {
  private readonly routes: Record<'GET' | 'POST', Array<[string, HttpHandler]>> = { GET: [], POST: [] }

  constructor (private readonly cors: CorsOptions) {}

  get (prefix: string, handler: HttpHandler): void { this.add('GET', prefix, handler) }
  post (prefix: string, handler: HttpHandler): void { this.add('POST', prefix, handler) }

  private add (method: 'GET' | 'POST', prefix: string, handler: HttpHandler): void {
    this.routes[method].push([prefix, handler])
    this.routes[method].sort((a, b) => b[0].length - a[0].length)
  }

  /** The response: at once when the route's handler answers at once (the uWS adapter then writes it inside its request callback). */
  dispatch (request: HttpRequest): HttpResponse | Promise<HttpResponse> {
    const origin = request.headers.origin ?? request.headers.referer
    const corsHeaders = this.corsHeaders(origin)
    if (corsHeaders === null) return { status: 403, body: 'Origin not allowed.' }
    if (request.method === 'OPTIONS') return { status: 200, headers: { ...corsHeaders, 'access-control-allow-methods': ALLOWED_METHODS, 'access-control-allow-headers': ALLOWED_HEADERS } }
    const method = request.method === 'GET' || request.method === 'POST' ? request.method : null
    if (method === null) return { status: 405, body: 'Method not allowed.', headers: corsHeaders }
    const route = this.routes[method].find(([prefix]) => request.path === prefix || request.path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`))
    if (route === undefined) return { status: 404, body: 'Endpoint not found.', headers: corsHeaders }
    if (method === 'POST' && !(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return { status: 415, body: 'Invalid "Content-Type" header. Supported media types: "application/json"', headers: corsHeaders }
    }
    const failed = (error: unknown): HttpResponse => ({ status: 500, body: `Internal error: ${errorMessage(error)}`, headers: corsHeaders })
    const withCors = (response: HttpResponse): HttpResponse => addHeaders(response, corsHeaders)
    let response: HttpResponse | Promise<HttpResponse>
    try {
      response = route[1](request)
    } catch (error) {
      return failed(error)
    }
    return response instanceof Promise ? response.then(withCors, failed) : withCors(response)
  }

  private corsHeaders (origin: string | undefined): Record<string, string> | null {
    if (this.cors.allowAllOrigins) return { 'access-control-allow-origin': '*' }
    if (origin === undefined) return {}
    const allowed = this.cors.origins.find((o) => origin === o || origin.startsWith(`${o}/`))
    if (allowed === undefined) return null
    return { 'access-control-allow-origin': allowed, 'access-control-allow-credentials': 'true' }
  }
}

/**
 * A copy of `response` with `headers` added where it sets none of the same name. The response is
 * the handler's, which may hand out one object to every request (a plugin's route can), so it is
 * copied, not written to; and copied field by field, not spread: a spread of objects of changing
 * shapes goes through V8's runtime on every request (4 to 5% of a JIF request's time).
 */
function addHeaders (response: HttpResponse, headers: Record<string, string>): HttpResponse {
  const own = response.headers
  if (own === undefined) return { status: response.status, body: response.body, headers }
  const merged: Record<string, string> = {}
  for (const key in headers) merged[key] = headers[key]
  for (const key in own) merged[key] = own[key]
  return { status: response.status, body: response.body, headers: merged }
}

/**
 * What a server adapter (uWebSockets.js or Node's http + ws) offers the
 * core: one port, exact-path WebSocket routes, and everything else to the
 * HTTP routes.
 */
export interface HttpServerAdapter {
  readonly description: string
  listen (options: {
    host: string
    port: number
    routes: HttpRoutes
    websockets: readonly import('../connection/transport.js').WebSocketRoute[]
    maxBodySize: number
    /** Handshake headers to copy for authentication (always: x-forwarded-for, referer). */
    headers: readonly string[]
  }): Promise<number>
  /** Listens on one more address with the same routes (after `listen`); resolves the port. */
  listenAlso? (host: string, port: number): Promise<number>
  /** Stops listening and closes every socket. */
  close (): Promise<void>
  /** Stops listening and drops every socket at once, without close handshakes. */
  forceClose? (): void
}

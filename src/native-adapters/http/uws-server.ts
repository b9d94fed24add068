/**
 * The HTTP server adapter on uWebSockets.js: one App, WebSocket routes by
 * exact path, every other request to the core's HTTP routes. This module is
 * the only one that touches uWS objects: headers are copied out of `req`
 * before any await, every deferred response has onAborted, and messages are
 * copied before the handler returns.
 */
import type { HttpResponse as UwsResponse, WebSocket as UwsSocket, us_listen_socket } from 'uWebSockets.js'
import { clientAddress, upgradeHandshake, type HttpServerAdapter, type HttpRequest, type HttpResponse } from '../../native-free-core/http/http-routes.js'
import { DEFAULT_MAX_SEND_BUFFER, type TopicHub, type Transport, type TransportSession } from '../../native-free-core/connection/transport.js'
import type { HandshakeData } from '../../native-free-core/plugins/auth/authentication.js'
import { RiptideError } from '../../native-free-core/errors.js'
import { copyBytes } from '../../native-free-core/protocol/binary-data.js'
import { loadNativeUws, type UwsModule } from './uws-native.js'
import { freePort } from './free-port.js'

interface SocketData { handshake: HandshakeData, session: TransportSession | null, open: boolean }

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 500: 'Internal Server Error' }

/** How many just-freed ports port 0 tries before giving up. */
const PORT_ATTEMPTS = 5

function text (buffer: ArrayBuffer): string { return Buffer.from(buffer).toString('utf8') }

export class UwsHttpServer implements HttpServerAdapter {
  readonly description = 'uWebSockets.js (native)'
  private readonly uws: UwsModule = loadNativeUws()
  private readonly listenSockets: us_listen_socket[] = []
  private app: ReturnType<UwsModule['App']> | null = null
  private readonly sockets = new Set<UwsSocket<SocketData>>()
  /** Fan-out: uWS writes a published frame to every member of its topic, corked, in C++. */
  private readonly hub: TopicHub = {
    publish: (topic, frame, isBinary) => {
      this.app?.publish(topic, frame, isBinary)
      this.countPublished(frame)
    },
  }
  /** Bytes published since every socket last checked its send buffer, and how many may be. */
  private publishedSinceCheck = 0
  private checkEvery = Number.POSITIVE_INFINITY
  private checkQueued = false
  /**
   * Whether frames published this loop turn may still wait in uWS's topic tree. uWS hands them to
   * their members after the turn's callbacks and before Node's immediates, and drops a member's
   * waiting frames when it leaves the topic.
   */
  private publishedThisTurn = false

  listen (options: Parameters<HttpServerAdapter['listen']>[0]): Promise<number> {
    const app = this.uws.App()
    this.app = app
    for (const route of options.websockets) {
      const maxSendBuffer = route.maxSendBuffer ?? DEFAULT_MAX_SEND_BUFFER
      // A string frame's length undercounts its UTF-8 bytes by up to 3x: check often enough that
      // no socket passes uWS's own limit (twice the core's) between two checks.
      this.checkEvery = Math.min(this.checkEvery, maxSendBuffer / 8)
      app.ws<SocketData>(route.path, {
        compression: this.uws.DISABLED,
        maxPayloadLength: route.maxMessageSize,
        idleTimeout: route.idleTimeoutSeconds,
        // The core closes a socket over maxSendBuffer with a reason; uWS's limit is the backstop,
        // and closes rather than skipping a subscriber (a skipped frame would be lost unseen).
        maxBackpressure: 2 * maxSendBuffer,
        closeOnBackpressureLimit: 1,
        sendPingsAutomatically: false,
        upgrade: (res, req, context) => {
          const headers: Record<string, string> = {}
          req.forEach((key, value) => { headers[key] = value })
          const handshake = upgradeHandshake(headers, text(res.getRemoteAddressAsText()), options.headers)
          res.upgrade<SocketData>({ handshake, session: null, open: true }, headers['sec-websocket-key'] ?? '', headers['sec-websocket-protocol'] ?? '', headers['sec-websocket-extensions'] ?? '', context)
        },
        open: (ws) => {
          this.sockets.add(ws)
          const data = ws.getUserData()
          const transport: Transport = {
            send: (frame, isBinary) => data.open && ws.send(frame, isBinary) !== 2,
            // One corked write for a turn's frames to this socket, instead of one write(2) each.
            sendMany: (frames, isBinary) => {
              if (!data.open) return false
              let ok = true
              ws.cork(() => { for (const frame of frames) if (ws.send(frame, isBinary) === 2) ok = false })
              return ok
            },
            close: (code, reason) => { if (data.open) ws.end(code, reason.slice(0, 120)) },
            bufferedAmount: () => (data.open ? ws.getBufferedAmount() : 0),
            topics: {
              hub: this.hub,
              join: (topic) => { if (data.open) ws.subscribe(topic) },
              leave: (topic) => {
                if (!data.open) return
                // A frame sent to the socket (a ping is the smallest) first hands it what was published to it.
                if (this.publishedThisTurn) ws.ping()
                ws.unsubscribe(topic)
              },
              publishFromHere: (topic, frame, isBinary) => {
                if (!data.open) {
                  this.hub.publish(topic, frame, isBinary)
                  return
                }
                ws.publish(topic, frame, isBinary)
                this.countPublished(frame)
              },
            },
          }
          data.session = route.open(transport, data.handshake)
        },
        message: (ws, message, isBinary) => {
          // uWS reuses the ArrayBuffer after this call returns: copy it.
          ws.getUserData().session?.onMessage(isBinary ? copyBytes(new Uint8Array(message)) : text(message), isBinary)
        },
        close: (ws) => {
          this.sockets.delete(ws)
          const data = ws.getUserData()
          data.open = false
          data.session?.onClose()
        },
      })
    }
    app.any('/*', (res, req) => {
      const method = req.getCaseSensitiveMethod().toUpperCase()
      const path = req.getUrl()
      const query = req.getQuery() ?? ''
      const headers: Record<string, string> = {}
      req.forEach((key, value) => { headers[key] = value })
      const remoteAddress = clientAddress(headers, text(res.getRemoteAddressAsText()))
      const request = (body: Buffer | null): HttpRequest => ({ method, path, query, headers, body, remoteAddress })
      if (method !== 'POST') {
        const response = options.routes.dispatch(request(null))
        // Inside this callback uWS corks the response itself, and needs no onAborted.
        if (!(response instanceof Promise)) {
          respond(res, response)
          return
        }
        deliver(response, later(res))
        return
      }
      const answer = later(res)
      readBody(res, options.maxBodySize, (body) => {
        deliver(body === null ? { status: 413, body: 'Request body too large.' } : options.routes.dispatch(request(body)), answer)
      })
    })
    return this.listenOn(options.host, options.port)
  }

  /**
   * A published frame never passes the core's `send`, which closes slow consumers: after enough
   * published bytes, every socket checks its send buffer (once per turn at most).
   */
  private countPublished (frame: Uint8Array | string): void {
    if (!this.publishedThisTurn) {
      this.publishedThisTurn = true
      setImmediate(() => { this.publishedThisTurn = false })
    }
    this.publishedSinceCheck += typeof frame === 'string' ? frame.length : frame.byteLength
    if (this.publishedSinceCheck < this.checkEvery || this.checkQueued) return
    this.checkQueued = true
    queueMicrotask(() => {
      this.checkQueued = false
      this.publishedSinceCheck = 0
      for (const ws of this.sockets) ws.getUserData().session?.checkSendBuffer?.()
    })
  }

  listenAlso (host: string, port: number): Promise<number> {
    return this.listenOn(host, port)
  }

  /**
   * uSockets sets SO_REUSEPORT only on a port given by number, so port 0 becomes a port the OS
   * has just called free: other workers can then share it. Picked at the last moment, and
   * picked again if another server took it meanwhile.
   */
  private async listenOn (host: string, port: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const listening = await this.listenOnce(host, port === 0 ? await freePort(host) : port)
      if (listening !== null) return listening
      if (port !== 0 || attempt === PORT_ATTEMPTS) throw new RiptideError('RT_LISTEN_FAILED', `cannot listen on ${host}:${port}`)
    }
  }

  /** Listens on `port`; resolves the port, or null if it is taken. */
  private listenOnce (host: string, port: number): Promise<number | null> {
    const app = this.app
    if (app === null) return Promise.reject(new RiptideError('RT_SERVER_STATE', 'listen() must come first'))
    return new Promise((resolve) => {
      app.listen(host, port, (listenSocket) => {
        if (listenSocket === false) {
          resolve(null)
          return
        }
        this.listenSockets.push(listenSocket)
        resolve(this.uws.us_socket_local_port(listenSocket as unknown as Parameters<UwsModule['us_socket_local_port']>[0]))
      })
    })
  }

  /**
   * Stops listening and closes every socket: first with a close frame, then,
   * for sockets whose peer has not answered within a second, at once. When
   * this resolves uWS holds no socket, so the thread may end (uWS aborts the
   * process if a thread ends with a socket open).
   */
  async close (): Promise<void> {
    for (const listenSocket of this.listenSockets.splice(0)) this.uws.us_listen_socket_close(listenSocket)
    for (const ws of [...this.sockets]) ws.end(1001, 'server shutting down')
    const deadline = Date.now() + 1000
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    this.forceClose()
  }

  /** Drops every socket at once, without a close handshake (a crashing worker). */
  forceClose (): void {
    for (const listenSocket of this.listenSockets.splice(0)) this.uws.us_listen_socket_close(listenSocket)
    for (const ws of [...this.sockets]) ws.close()
    this.sockets.clear()
    // Idle HTTP keep-alive connections are invisible to JS: App.close() (present in
    // this build, absent from its typings) drops them and anything else still open.
    ;(this.app as unknown as { close?: () => void } | null)?.close?.()
    this.app = null
  }
}

function respond (res: UwsResponse, response: HttpResponse): void {
  res.writeStatus(`${response.status} ${STATUS_TEXT[response.status] ?? ''}`)
  if (response.headers !== undefined) for (const key in response.headers) res.writeHeader(key, response.headers[key])
  res.end(response.body ?? '')
}

/** Watches `res` for an abort (a response after the request callback returned needs that) and answers it later, corked, unless aborted. */
function later (res: UwsResponse): (response: HttpResponse) => void {
  let aborted = false
  res.onAborted(() => { aborted = true })
  return (response) => {
    if (!aborted) res.cork(() => respond(res, response))
  }
}

/** Hands `response` to `answer` once it is there; a failed one becomes a 500. */
function deliver (response: HttpResponse | Promise<HttpResponse>, answer: (response: HttpResponse) => void): void {
  if (response instanceof Promise) response.then(answer, (error: unknown) => answer({ status: 500, body: String(error) }))
  else answer(response)
}

function readBody (res: UwsResponse, limit: number, done: (body: Buffer | null) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  let failed = false
  res.onData((chunk, isLast) => {
    if (failed) return
    size += chunk.byteLength
    if (size > limit) {
      failed = true
      done(null)
      return
    }
    chunks.push(copyBytes(new Uint8Array(chunk)))
    if (isLast) done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))
  })
}

/**
 * The HTTP endpoint: JSON Interaction Format batches at POST /api. The request is authenticated
 * once; each item becomes one protocol message, runs through the same permission check and
 * handlers as a WebSocket message, and is answered (jif-answers.ts) from the first reply that
 * settles it. Items run one after another, in order, under one deadline for the whole request.
 * Refusals and their texts are deepstream 7's.
 */
import type { UserSession } from '../connection/socket.js'
import { ReplySocket } from '../connection/reply-socket.js'
import type { JSONObject } from '../protocol/message.js'
import type { HttpRequest, HttpResponse, HttpRoutes } from '../http/http-routes.js'
import type { HttpEndpointOptions } from '../config/schema.js'
import type { CombinedAuthentication } from '../plugins/auth/authentication.js'
import type { MessageProcessor } from './message-processor.js'
import type { Monitoring } from '../plugins/monitoring/monitoring.js'
import { answerFor, EMIT_DENIED, TIMED_OUT, type JifAnswer } from './jif-answers.js'
import { jifMessage, parseJifItem, type JifItem } from './jif-items.js'
import { Timeouts, type Timeout } from '../timeouts.js'

/** deepstream's HTTP server ends every answer, text or JSON, with a blank line. */
const END = '\r\n\r\n'
const badRequest = (text: string): HttpResponse => ({ status: 400, body: `${text}${END}` })

export class JifEndpoint {
  private nextId = 1
  /** One deadline per request, all of one duration: one timer serves them all. */
  private readonly deadlines = new Timeouts()

  constructor (
    private readonly options: HttpEndpointOptions,
    private readonly authentication: CombinedAuthentication,
    private readonly processor: MessageProcessor,
    private readonly monitoring: Monitoring,
  ) {}

  register (routes: HttpRoutes): void {
    routes.post(this.options.postPath, (request) => this.onPost(request))
    routes.get(this.options.getPath, () => badRequest('Reading messages through GET is not supported.'))
  }

  /** Stops the deadline timer; requests still running are answered by the closing server, or not at all. */
  close (): void { this.deadlines.close() }

  private async onPost (request: HttpRequest): Promise<HttpResponse> {
    let raw: unknown
    try {
      raw = JSON.parse(request.body?.toString('utf8') ?? '')
    } catch {
      return badRequest('Invalid JSON body.')
    }
    const envelope = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
    const { body } = envelope
    if (!Array.isArray(body) || body.length < 1) {
      return badRequest(`Invalid message: the "body" parameter must ${body === undefined || body === null ? 'exist.' : 'be a non-empty array of Objects.'}`)
    }
    const authData = this.authDataOf(envelope)
    if (typeof authData === 'string') return badRequest(authData)
    const handshake = { remoteAddress: request.remoteAddress, headers: request.headers, referer: request.headers.referer ?? '' }
    const auth = await this.authentication.isValidUser(handshake, authData)
    this.monitoring.onLogin(auth.isValid, 'http')
    if (!auth.isValid) return { status: 401, body: `Unsuccessful authentication attempt.${END}` }
    const items: JifItem[] = []
    for (const [index, candidate] of body.entries()) {
      const parsed = parseJifItem(candidate)
      if ('reason' in parsed) return badRequest(`Failed to parse JIF object at index ${index}.${parsed.reason === null ? '' : ` Reason: ${parsed.reason}`}`)
      items.push(parsed.item)
    }
    const user: UserSession = { id: auth.id ?? 'open', clientData: auth.clientData ?? null, serverData: auth.serverData ?? null }
    // Items run one after another under one deadline: once it passes, the rest time out at once.
    let deadline: Timeout | null = null
    const timedOut = new Promise<JifAnswer>((resolve) => { deadline = this.deadlines.set(this.options.requestTimeout, () => resolve(TIMED_OUT)) })
    const answers: JifAnswer[] = []
    try {
      for (const item of items) answers.push(await this.run(user, item, timedOut))
    } finally {
      this.deadlines.clear(deadline)
    }
    const ok = answers.filter((answer) => answer.success).length
    const result = ok === answers.length ? 'SUCCESS' : ok === 0 ? 'FAILURE' : 'PARTIAL_SUCCESS'
    return { status: 200, body: `${JSON.stringify({ result, body: answers })}${END}`, headers: { 'content-type': 'application/json' } }
  }

  /** The auth data a request carries (authData, or a token), or the text of its refusal. */
  private authDataOf (envelope: Record<string, unknown>): JSONObject | string {
    const { authData, token } = envelope
    if (authData !== undefined) {
      if (!this.options.allowAuthData) return 'Authentication using authData is disabled. Try using a token instead.'
      if (typeof authData !== 'object' || authData === null) return 'Invalid message: the "authData" parameter must be an object'
      return authData as JSONObject
    }
    if (token !== undefined) {
      if (typeof token !== 'string' || token.length === 0) return 'Invalid message: the "token" parameter must be a non-empty string'
      return { token }
    }
    return {}
  }

  private async run (user: UserSession, item: JifItem, timedOut: Promise<JifAnswer>): Promise<JifAnswer> {
    const { message, immediate } = jifMessage(item, `jif-${this.nextId++}`)
    const socket = new ReplySocket<JifAnswer>('http', user, answerFor)
    try {
      const pending = this.processor.step(socket, message)
      if (immediate) {
        // An emit is done once its permission check has run: denied if it drew an error.
        await Promise.race([pending, timedOut])
        return socket.result === null ? { success: true } : EMIT_DENIED
      }
      return await Promise.race([socket.settled, timedOut])
    } finally {
      socket.close()
    }
  }
}

/**
 * The HTTP endpoint: JSON Interaction Format batches at POST /api
 * (reference §2.11). Each item becomes one protocol message, runs through
 * the same permission check and handlers as a WebSocket message, and is
 * answered from the first reply that settles it.
 */
import { z } from 'zod'
import { jsonValueSchema } from '../protocol/json-schema.js'
import { EVENT_ACTION, PRESENCE_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../protocol/constants.js'
import type { JSONObject, JSONValue, Message } from '../protocol/message.js'
import { jsonCodec } from '../protocol/json-codec.js'
import { allocateSocketId, type Socket, type UserSession } from '../connection/socket.js'
import type { HttpRequest, HttpResponse, HttpRoutes } from './http-routes.js'
import type { HttpEndpointOptions } from '../config/schema.js'
import type { CombinedAuthentication } from '../plugins/auth/authentication.js'
import type { MessageProcessor } from '../connection/message-processor.js'
import type { Monitoring } from '../plugins/monitoring/monitoring.js'
import { jsonText } from '../protocol/binary-data.js'

const json = jsonValueSchema
const name = z.string().min(1)
const jifItem = z.union([
  z.object({ topic: z.literal('event'), action: z.literal('emit'), eventName: name, data: json.optional() }),
  z.object({ topic: z.literal('rpc'), action: z.literal('make'), rpcName: name, data: json.optional() }),
  z.object({ topic: z.literal('record'), action: z.enum(['read', 'head', 'delete']), recordName: name }),
  z.object({ topic: z.literal('record'), action: z.literal('write'), recordName: name, path: z.string().optional(), data: json, version: z.number().int().optional() }),
  z.object({ topic: z.literal('record'), action: z.literal('notify'), recordNames: z.array(name).min(1) }),
  z.object({ topic: z.literal('list'), action: z.enum(['read', 'delete']), listName: name }),
  z.object({ topic: z.literal('list'), action: z.literal('write'), listName: name, data: z.array(z.string()), version: z.number().int().optional() }),
  z.object({ topic: z.literal('presence'), action: z.literal('query'), names: z.array(name).optional() }),
])
type JifItem = z.infer<typeof jifItem>
const jifRequest = z.object({ token: z.string().optional(), authData: z.record(z.string(), json).optional(), body: z.array(z.unknown()).min(1) })

type JifResult = { success: true, data?: JSONValue, version?: number, users?: JSONValue } |
{ success: false, error: string, errorTopic: string, errorEvent: string, errorAction?: string, currentVersion?: number, currentData?: JSONValue }

const TOPIC_NAME: Record<number, string> = { [TOPIC.EVENT]: 'event', [TOPIC.RECORD]: 'record', [TOPIC.RPC]: 'rpc', [TOPIC.PRESENCE]: 'presence' }
const ACTION_NAMES: Record<number, Record<number, string>> = {
  [TOPIC.EVENT]: invert(EVENT_ACTION), [TOPIC.RECORD]: invert(RECORD_ACTION), [TOPIC.RPC]: invert(RPC_ACTION), [TOPIC.PRESENCE]: invert(PRESENCE_ACTION),
}
function invert (table: Record<string, number>): Record<number, string> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [v, k]))
}

/** A socket for one JIF item: it holds the first reply that settles the item. */
class JifSocket implements Socket {
  readonly id = allocateSocketId()
  readonly codec = jsonCodec
  readonly endpoint = 'http'
  isClosed = false
  private settle: ((message: Message) => void) | null = null
  readonly settled: Promise<Message>

  constructor (readonly user: UserSession, private readonly settles: (message: Message) => boolean) {
    this.settled = new Promise((resolve) => { this.settle = resolve })
  }

  send (message: Message): void {
    if (this.settle !== null && (message.isError === true || this.settles(message))) {
      this.settle(message)
      this.settle = null
    }
  }

  sendFrame (): void {}
  close (): void { this.isClosed = true }
}

function parseData (message: Message): JSONValue | undefined {
  if (message.data === undefined) return undefined
  const text = jsonText(message.data)
  try { return JSON.parse(text) as JSONValue } catch { return text }
}

export class JifEndpoint {
  private nextId = 1

  constructor (
    private readonly options: HttpEndpointOptions,
    private readonly authentication: CombinedAuthentication,
    private readonly processor: MessageProcessor,
    private readonly monitoring: Monitoring,
  ) {}

  register (routes: HttpRoutes): void {
    routes.post(this.options.postPath, (request) => this.onPost(request))
    routes.get(this.options.getPath, () => ({ status: 400, body: 'Reading messages through GET is not supported.' }))
  }

  private async onPost (request: HttpRequest): Promise<HttpResponse> {
    let raw: unknown
    try {
      raw = JSON.parse(request.body?.toString('utf8') ?? '')
    } catch {
      return { status: 400, body: 'Invalid JSON body.' }
    }
    const parsed = jifRequest.safeParse(raw)
    if (!parsed.success) return { status: 400, body: 'Invalid JIF request: it needs a non-empty "body" array.' }
    const items: JifItem[] = []
    for (let i = 0; i < parsed.data.body.length; i++) {
      const item = jifItem.safeParse(parsed.data.body[i])
      if (!item.success) return { status: 400, body: `Failed to parse JIF object at index ${i}.` }
      items.push(item.data)
    }
    if (parsed.data.authData !== undefined && !this.options.allowAuthData) return { status: 400, body: 'authData is not allowed on this endpoint.' }
    const authData: JSONObject = parsed.data.authData ?? (parsed.data.token !== undefined ? { token: parsed.data.token } : {})
    const handshake = { remoteAddress: request.remoteAddress, headers: { ...request.headers }, referer: request.headers.referer ?? '' }
    const auth = await this.authentication.isValidUser(handshake, authData)
    this.monitoring.onLogin(auth.isValid, 'http')
    if (!auth.isValid) return { status: 401, body: 'Unsuccessful authentication attempt.' }
    const user: UserSession = { id: auth.id ?? 'open', clientData: auth.clientData ?? null, serverData: auth.serverData ?? null }
    // Items run in order, so a read after a write in one batch sees the write.
    const body: JifResult[] = []
    for (const item of items) body.push(await this.run(user, item))
    const ok = body.filter((r) => r.success).length
    const result = ok === body.length ? 'SUCCESS' : ok === 0 ? 'FAILURE' : 'PARTIAL_SUCCESS'
    return { status: 200, body: JSON.stringify({ result, body }), headers: { 'content-type': 'application/json' } }
  }

  private toMessage (item: JifItem): { message: Message, settles: (reply: Message) => boolean, immediate: boolean } {
    const correlationId = `jif-${this.nextId++}`
    const data = 'data' in item && item.data !== undefined ? JSON.stringify(item.data) : undefined
    const is = (...actions: number[]) => (reply: Message) => actions.includes(reply.action) && !reply.isAck
    switch (item.topic) {
      case 'event':
        return { message: { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: item.eventName, data }, settles: () => false, immediate: true }
      case 'rpc':
        return { message: { topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name: item.rpcName, correlationId, data }, settles: is(RPC_ACTION.RESPONSE), immediate: false }
      case 'presence':
        return item.names === undefined
          ? { message: { topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY_ALL }, settles: is(PRESENCE_ACTION.QUERY_ALL_RESPONSE), immediate: false }
          : { message: { topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY, names: item.names, correlationId }, settles: is(PRESENCE_ACTION.QUERY_RESPONSE), immediate: false }
      default: {
        if (item.action === 'notify') {
          return { message: { topic: TOPIC.RECORD, action: RECORD_ACTION.NOTIFY, names: item.recordNames, correlationId }, settles: (r) => r.action === RECORD_ACTION.NOTIFY, immediate: false }
        }
        const recordName = 'recordName' in item ? item.recordName : item.listName
        switch (item.action) {
          case 'read': return { message: { topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: recordName }, settles: is(RECORD_ACTION.READ_RESPONSE), immediate: false }
          case 'head': return { message: { topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name: recordName }, settles: is(RECORD_ACTION.HEAD_RESPONSE), immediate: false }
          case 'delete': return { message: { topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: recordName }, settles: is(RECORD_ACTION.DELETE_SUCCESS), immediate: false }
          default: {
            const path = 'path' in item ? item.path : undefined
            return {
              message: {
                topic: TOPIC.RECORD,
                action: path === undefined ? RECORD_ACTION.CREATEANDUPDATE : RECORD_ACTION.CREATEANDPATCH,
                name: recordName, path, data, version: item.version ?? -1, isWriteAck: true, correlationId,
              },
              settles: (r) => r.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT || r.action === RECORD_ACTION.VERSION_EXISTS,
              immediate: false,
            }
          }
        }
      }
    }
  }

  private async run (user: UserSession, item: JifItem): Promise<JifResult> {
    const { message, settles, immediate } = this.toMessage(item)
    const socket = new JifSocket(user, settles)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), this.options.requestTimeout) })
    try {
      const pending = this.processor.step(socket, message)
      if (immediate) {
        await pending
        await Promise.resolve()
      }
      const reply = await Promise.race([immediate ? Promise.race([socket.settled, Promise.resolve(null)]) : socket.settled, timeout])
      if (reply === null) {
        if (immediate) return { success: true }
        return { success: false, error: 'request timed out', errorTopic: item.topic, errorEvent: 'HTTP_REQUEST_TIMEOUT' }
      }
      return this.toResult(item, reply)
    } finally {
      clearTimeout(timer)
      socket.close()
    }
  }

  private toResult (item: JifItem, reply: Message): JifResult {
    const actionName = ACTION_NAMES[reply.topic]?.[reply.action] ?? String(reply.action)
    if (reply.action === RECORD_ACTION.VERSION_EXISTS && reply.topic === TOPIC.RECORD) {
      return { success: false, error: 'version conflict', errorTopic: 'record', errorEvent: actionName, currentVersion: reply.version, currentData: parseData(reply) }
    }
    if (reply.isError === true) {
      const error = typeof parseData(reply) === 'string' ? parseData(reply) as string : actionName
      return { success: false, error, errorTopic: TOPIC_NAME[reply.topic] ?? item.topic, errorEvent: actionName }
    }
    switch (reply.action) {
      case RECORD_ACTION.READ_RESPONSE: return reply.topic === TOPIC.RECORD ? { success: true, data: parseData(reply), version: reply.version } : { success: true }
      case RECORD_ACTION.HEAD_RESPONSE: return reply.topic === TOPIC.RECORD ? { success: true, version: reply.version } : { success: true }
      default:
        if (reply.topic === TOPIC.RPC) return { success: true, data: parseData(reply) }
        if (reply.topic === TOPIC.PRESENCE) return { success: true, users: reply.action === PRESENCE_ACTION.QUERY_ALL_RESPONSE ? (reply.names ?? []) : parseData(reply) }
        return { success: true }
    }
  }
}

/**
 * The PluginApi custom plugins receive (custom-plugin.ts): sessions of every worker, run-time
 * timeouts, HTTP routes, events and records sent as the server, and permission reloads. Requests
 * that need every worker go over the cluster node; records and events run through the same
 * processor and handlers as a client's messages, on a trusted socket that no rule refuses.
 */
import type { PluginApi } from '../plugins/custom/custom-plugin.js'
import { RuntimeTimeouts, type TimeoutKey } from '../config/runtime-timeouts.js'
import type { CoreServices } from '../handlers/services.js'
import type { HttpRoutes } from '../http/http-routes.js'
import type { ClusterQueries } from '../cluster/queries.js'
import type { MessageProcessor } from '../endpoints/message-processor.js'
import { ReplySocket } from '../connection/reply-socket.js'
import type { UserSession } from '../connection/socket.js'
import { actionName, EVENT_ACTION, isErrorMessage, RECORD_ACTION, TOPIC } from '../protocol/constants.js'
import type { JSONValue, Message } from '../protocol/message.js'
import type { StoredRecord } from '../plugins/cache/cache.js'
import { RiptideError } from '../errors.js'
import { controlMessage, readControl } from '../cluster/control.js'

const CLOSE_USER = 'plugin/close-user'
const COUNT_USER = 'plugin/count-user'
const SET_TIMEOUT = 'plugin/set-timeout'

/** Who the plugin API's requests come from, in logs and rules that look at the user. */
const SERVER_USER: UserSession = { id: 'riptide-plugin', clientData: null, serverData: null }

export interface PluginApiDeps {
  readonly services: CoreServices
  readonly routes: HttpRoutes
  readonly configDir: string
  readonly queries: ClusterQueries
  readonly processor: MessageProcessor
  /** Reloads the permission rules on this worker and tells the others to. */
  readonly reloadPermissions: () => Promise<void>
}

/** A reply to a record request as a result, or the error it reports. */
type Outcome<T> = { value: T } | { error: Message }

export function createPluginApi ({ services, routes, configDir, queries, processor, reloadPermissions }: PluginApiDeps): PluginApi {
  const { config, sessions, clusterNode, timeouts } = services
  // Every worker answers for its own sessions and applies timeouts set on another.
  const userSessions = (message: Message): Message => {
    const question = readControl(message)
    if (question?.kind !== 'user-sessions') throw new RiptideError('RT_PLUGIN_API', 'a user sessions question without its user')
    const value = question.closeReason === undefined ? sessions.count(question.user) : sessions.closeUser(question.user, question.closeReason)
    return controlMessage({ kind: 'count', value })
  }
  queries.answer(CLOSE_USER, userSessions)
  queries.answer(COUNT_USER, userSessions)
  clusterNode.subscribe(SET_TIMEOUT, (message) => {
    const change = readControl(message)
    if (change?.kind === 'timeout-change' && RuntimeTimeouts.isKey(change.key)) timeouts.set(change.key, change.milliseconds)
  })
  const knownTimeout = (key: string): TimeoutKey => {
    if (!RuntimeTimeouts.isKey(key)) throw new RiptideError('RT_PLUGIN_API', `unknown timeout "${key}"`)
    return key
  }
  const sum = (answers: Message[]): number => answers.reduce((total, answer) => {
    const count = readControl(answer)
    return total + (count?.kind === 'count' ? count.value : 0)
  }, 0)

  let nextId = 1
  /** Runs one record message as the server and resolves with what its settling reply says. */
  const request = async <T>(message: Message, settle: (reply: Message) => T | null): Promise<T> => {
    const socket = new ReplySocket<Outcome<T>>('plugin', SERVER_USER, (reply) => {
      if (isErrorMessage(reply) && reply.action !== RECORD_ACTION.RECORD_NOT_FOUND) return { error: reply }
      const value = settle(reply)
      return value === null ? null : { value }
    }, true)
    void processor.step(socket, message)
    const outcome = await socket.settled
    socket.close()
    if ('value' in outcome) return outcome.value
    const { error } = outcome
    throw new RiptideError('RT_PLUGIN_API', `record "${message.name}": ${actionName(error.topic, error.action)}${typeof error.data === 'string' ? ` (${error.data})` : ''}`)
  }
  const name = (value: unknown): string => {
    if (typeof value !== 'string' || value === '') throw new RiptideError('RT_PLUGIN_API', 'a record or event name must be a non-empty string')
    return value
  }

  return {
    logger: services.logger.getNameSpace('plugin'),
    serverName: clusterNode.serverName,
    config,
    configDir,
    sessions: {
      closeUser: async (userId, reason = 'closed by plugin') => {
        const here = sessions.closeUser(userId, reason)
        return here + sum(await queries.ask(CLOSE_USER, controlMessage({ kind: 'user-sessions', user: userId, closeReason: reason })))
      },
      count: async (userId) => sessions.count(userId) + sum(await queries.ask(COUNT_USER, controlMessage({ kind: 'user-sessions', user: userId }))),
      onLogin: (listener) => sessions.onLogin(listener),
      onLogout: (listener) => sessions.onLogout(listener),
    },
    timeouts: {
      get: (key) => timeouts.get(knownTimeout(key)),
      set: (key, milliseconds) => {
        knownTimeout(key)
        if (!Number.isInteger(milliseconds) || milliseconds < 0) throw new RiptideError('RT_PLUGIN_API', `${key} must be a whole number of milliseconds`)
        timeouts.set(key, milliseconds)
        clusterNode.send(SET_TIMEOUT, controlMessage({ kind: 'timeout-change', key, milliseconds }))
      },
    },
    http: {
      get: (prefix, handler) => routes.get(prefix, handler),
      post: (prefix, handler) => routes.post(prefix, handler),
    },
    events: {
      emit: (event, data) => {
        const message = { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: name(event), data: data === undefined ? undefined : JSON.stringify(data) }
        void processor.step(new ReplySocket('plugin', SERVER_USER, () => null, true), message)
      },
    },
    records: {
      get: (record) => request<StoredRecord | false>({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: name(record) }, (reply) => {
        if (reply.action === RECORD_ACTION.RECORD_NOT_FOUND) return false
        if (reply.action !== RECORD_ACTION.READ_RESPONSE) return null
        return { version: reply.version ?? 0, data: JSON.parse(reply.data as string) as JSONValue }
      }).then((record) => (record === false ? null : record)),
      set: (record, data: JSONValue, path?: string) => request({
        topic: TOPIC.RECORD,
        action: path === undefined ? RECORD_ACTION.CREATEANDUPDATE : RECORD_ACTION.CREATEANDPATCH,
        name: name(record), path, version: -1, data: JSON.stringify(data), isWriteAck: true, correlationId: `plugin-${nextId++}`,
      }, (reply) => (reply.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT ? true : null)).then(() => {}),
      delete: (record) => request({ topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: name(record) }, (reply) => (reply.action === RECORD_ACTION.DELETE_SUCCESS ? true : null)).then(() => {}),
    },
    permissions: { reload: reloadPermissions },
  }
}

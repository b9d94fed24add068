/**
 * `client.record` of @deepstream/client 7 over the native protocol: getRecord, getList,
 * getAnonymousRecord, snapshot, has, head, setData and setDataWithAck, notify, listen and unlisten,
 * merge strategies, write acknowledgements, and the offline record cache.
 *
 * Records subscribe as @deepstream/client does (SUBSCRIBECREATEANDREAD), and after every later
 * login re-subscribe in bulk by version (SUBSCRIBEANDHEAD), so that what did not change is not read
 * again. One-shot questions (snapshot, head) still waiting when the connection drops are asked
 * again after the next login. Write acknowledgements still waiting fail with `client offline`, as
 * @deepstream/client's do; the record keeps its data and sends it again after the login if the
 * server does not have it.
 */
import { actionName, isErrorMessage, RECORD_ACTION, TOPIC } from '../../native-free-core/protocol/constants.js'
import type { JSONValue, Message } from '../../native-free-core/protocol/message.js'
import type { Connection, TopicModule } from '../connection.js'
import { parseData } from '../connection.js'
import { ClientError } from '../errors.js'
import { settleAll } from '../acks.js'
import { acknowledged, withCallback } from './callback-forms.js'
import { Listener, type ListenCallback } from './listener.js'
import { CLIENT_OFFLINE, RecordCore, REMOTE_WINS, type MergeStrategy, type RecordHost, type WriteAckCallback } from './record-core.js'
import { CompatAnonymousRecord, CompatList, CompatRecord, setArguments, type ViewHost } from './record-views.js'
import { defaultOfflineStore, type RecordOfflineStore } from './offline-store.js'

export interface RecordOptions {
  /** Keep records in an offline store: ready at once when cached, and usable offline. */
  offlineEnabled: boolean
  /** Write every change to the offline store, not only at discard and disconnection. */
  saveUpdatesOffline: boolean
  /** The offline store (default: `localStorage` where there is one, else memory; see defaultOfflineStore). */
  storage?: RecordOfflineStore
  /** Where the offline store keeps the names of records with offline changes. */
  dirtyStorageName: string
  /** Whether `get` returns copies (default true). */
  recordDeepCopy: boolean
}

type Callback<T> = (error: string | null, result?: T) => void
interface Question { resolve (value: unknown): void, reject (reason: string): void }

export class CompatRecords implements TopicModule, RecordHost, ViewHost {
  readonly topic = TOPIC.RECORD
  readonly deepCopy: boolean
  readonly saveEveryChange: boolean
  private readonly cores = new Map<string, RecordCore>()
  private readonly listener: Listener
  private readonly acks = new Map<string, WriteAckCallback>()
  private readonly reads = new Map<string, Question[]>()
  private readonly heads = new Map<string, Question[]>()
  private readonly notifies = new Map<string, Question>()
  private readonly strategies = new Map<string, MergeStrategy>()
  private readonly patternStrategies: Array<[RegExp, MergeStrategy]> = []
  private readonly store: RecordOfflineStore | null
  private readonly dirtyNames: Promise<Set<string>>

  constructor (private readonly connection: Connection, private readonly onError: (error: Error) => void, private readonly options: RecordOptions) {
    this.deepCopy = options.recordDeepCopy
    this.saveEveryChange = options.offlineEnabled && options.saveUpdatesOffline
    this.listener = new Listener(TOPIC.RECORD, RECORD_ACTION, connection, onError)
    this.store = options.offlineEnabled ? options.storage ?? defaultOfflineStore() : null
    this.dirtyNames = new Promise((resolve) => {
      if (this.store === null) resolve(new Set())
      else this.store.get(options.dirtyStorageName, (_name, _version, data) => resolve(new Set(Array.isArray(data) ? data as string[] : [])))
    })
  }

  get online (): boolean { return this.connection.state === 'open' }

  /** The names of the records this client holds. */
  names (): string[] { return [...this.cores.keys()] }

  getRecord (name: string): CompatRecord { return new CompatRecord(this.core(name), this) }

  getList (name: string): CompatList { return new CompatList(this.core(name), this) }

  getAnonymousRecord (): CompatAnonymousRecord { return new CompatAnonymousRecord(this) }

  setMergeStrategy (name: string, strategy: MergeStrategy): void {
    if (typeof strategy !== 'function') throw new Error('Invalid merge strategy: Must be a Function')
    this.strategies.set(name, strategy)
  }

  setMergeStrategyRegExp (pattern: RegExp, strategy: MergeStrategy): void {
    if (typeof strategy !== 'function') throw new Error('Invalid merge strategy: Must be a Function')
    this.patternStrategies.push([pattern, strategy])
  }

  mergeStrategyFor (name: string): MergeStrategy {
    return this.strategies.get(name) ?? this.patternStrategies.find(([pattern]) => pattern.test(name))?.[1] ?? REMOTE_WINS
  }

  listen (pattern: string, callback: ListenCallback): void { this.listener.listen(pattern, callback) }

  unlisten (pattern: string): void { this.listener.unlisten(pattern) }

  /** The record's data; a record this client holds answers from memory once ready. */
  snapshot (name: string): Promise<unknown>
  snapshot (name: string, callback: Callback<unknown>): void
  snapshot (name: string, callback?: Callback<unknown>): Promise<unknown> | undefined {
    return withCallback(this.held(name, (core) => core.get()) ?? this.ask(this.reads, name, RECORD_ACTION.READ), callback)
  }

  /** The record's version, -1 if it does not exist; a record this client holds answers from memory. */
  head (name: string): Promise<number>
  head (name: string, callback: Callback<number>): void
  head (name: string, callback?: Callback<number>): Promise<number> | undefined {
    return withCallback(this.held(name, (core) => core.version ?? -1) ?? this.ask(this.heads, name, RECORD_ACTION.HEAD) as Promise<number>, callback)
  }

  has (name: string): Promise<boolean>
  has (name: string, callback: Callback<boolean>): void
  has (name: string, callback?: Callback<boolean>): Promise<boolean> | undefined {
    return withCallback(this.head(name).then((version) => version !== -1), callback)
  }

  /** Writes without holding the record, creating it if needed (a held record is written through). */
  setData (name: string, data: unknown, callback?: WriteAckCallback): void
  setData (name: string, path: string, data: unknown, callback?: WriteAckCallback): void
  setData (name: string, ...rest: unknown[]): void {
    this.sendSetData(name, setArguments(rest))
  }

  setDataWithAck (name: string, data: unknown): Promise<void>
  setDataWithAck (name: string, path: string, data: unknown): Promise<void>
  setDataWithAck (name: string, ...rest: unknown[]): Promise<void> | undefined {
    const args = setArguments(rest)
    if (args.callback !== undefined) {
      this.sendSetData(name, args)
      return undefined
    }
    return acknowledged((callback) => this.sendSetData(name, { ...args, callback }))
  }

  /** As @deepstream/client 7: deleting needs a record (`getRecord(name).delete()`). */
  delete (_name: string): never { throw new Error('Delete is not yet supported without use of a Record') }

  /** Tells the server that these records changed in its storage behind its back. */
  notify (names: string[]): Promise<void>
  notify (names: string[], callback: (error: string | null) => void): void
  notify (names: string[], callback?: (error: string | null) => void): Promise<void> | undefined {
    const answer = new Promise<void>((resolve, reject) => {
      if (!this.online) {
        reject(CLIENT_OFFLINE)
        return
      }
      const correlationId = this.connection.correlationId()
      this.notifies.set(correlationId, { resolve: () => resolve(), reject })
      this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.NOTIFY, names, correlationId }, false)
    })
    return withCallback(answer, callback)
  }

  /** Writes every held record to the offline store now. */
  saveToOfflineStorage (): void {
    for (const core of this.cores.values()) this.save(core)
  }

  clearOfflineStorage (): Promise<void>
  clearOfflineStorage (callback: (error: string | null) => void): void
  clearOfflineStorage (callback?: (error: string | null) => void): Promise<void> | undefined {
    const answer = new Promise<void>((resolve, reject) => {
      if (this.store === null) resolve()
      else this.store.reset((error) => { if (error === null) resolve(); else reject(error) })
    })
    return withCallback(answer, callback)
  }

  /** @internal The shared state of a record name, loading it on first use. */
  core (name: string): RecordCore {
    checkName(name)
    let core = this.cores.get(name)
    if (core === undefined) {
      core = new RecordCore(name, this)
      this.cores.set(name, core)
      this.load(core)
    }
    return core
  }

  /** @internal */
  send (message: Message, callback?: WriteAckCallback): void {
    if (callback === undefined) {
      this.connection.send(message)
      return
    }
    if (!this.online) {
      queueMicrotask(() => callback(CLIENT_OFFLINE, message.name ?? ''))
      return
    }
    const correlationId = this.connection.correlationId()
    this.acks.set(correlationId, callback)
    this.connection.send({ ...message, correlationId, isWriteAck: true }, false)
  }

  /** @internal */
  save (core: RecordCore): void {
    if (this.store === null || core.version === null || core.isGone) return
    this.store.set(core.name, core.version, core.data, () => {})
    void this.dirtyNames.then((dirty) => {
      const was = dirty.has(core.name)
      if (was === core.dirty) return
      if (core.dirty) dirty.add(core.name)
      else dirty.delete(core.name)
      this.store?.set(this.options.dirtyStorageName, 1, [...dirty], () => {})
    })
  }

  /** @internal */
  release (core: RecordCore, unsubscribe: boolean): void {
    if (this.cores.get(core.name) !== core) return
    this.cores.delete(core.name)
    if (!unsubscribe) {
      this.store?.delete(core.name, () => {})
      return
    }
    this.sendNames(RECORD_ACTION.UNSUBSCRIBE, [core.name])
  }

  /** @internal */
  reportError (code: string, message: string): void { this.onError(new ClientError(code, message)) }

  handle (message: Message): void {
    if (this.listener.handles(message)) {
      this.listener.handle(message)
      return
    }
    const name = message.name ?? ''
    switch (message.action) {
      case RECORD_ACTION.WRITE_ACKNOWLEDGEMENT: this.settleAck(message.correlationId, null); return
      case RECORD_ACTION.NOTIFY: this.settleNotify(message.correlationId, null); return
      case RECORD_ACTION.RECORD_NOTIFY_ERROR: this.settleNotify(message.correlationId, String(parseData(message.data) ?? 'RECORD_NOTIFY_ERROR')); return
      case RECORD_ACTION.HEAD_RESPONSE_BULK:
        for (const [each, version] of Object.entries(message.versions ?? {})) this.cores.get(each)?.onHead(version)
        return
      case RECORD_ACTION.HEAD_RESPONSE:
        settleAll(this.heads, name, (q) => q.resolve(message.version ?? -1))
        this.cores.get(name)?.onHead(message.version ?? -1)
        return
      case RECORD_ACTION.READ_RESPONSE: {
        const core = this.cores.get(name)
        if (core !== undefined) core.handle(message)
        settleAll(this.reads, name, (q) => q.resolve(core?.get() ?? parseData(message.data)))
        return
      }
      case RECORD_ACTION.VERSION_EXISTS: {
        const callback = this.takeAck(message.correlationId)
        const core = this.cores.get(name)
        if (core !== undefined) core.onConflict(message.version ?? -1, parseData(message.data) as JSONValue, callback)
        else callback?.('VERSION_EXISTS', name)
        return
      }
    }
    if (message.isAck === true) return // subscribe, unsubscribe and listen acknowledgements
    if (isErrorMessage(message)) {
      this.onServerError(message)
      return
    }
    this.cores.get(name)?.handle(message)
  }

  restore (): void {
    const heads: string[] = []
    const reads: string[] = []
    for (const core of this.cores.values()) {
      if (core.isLoading) {
        reads.push(core.name)
      } else {
        core.expectHead()
        heads.push(core.name)
      }
    }
    if (reads.length > 0) this.sendNames(RECORD_ACTION.SUBSCRIBECREATEANDREAD, reads)
    if (heads.length > 0) this.sendNames(RECORD_ACTION.SUBSCRIBEANDHEAD, heads)
    for (const name of this.reads.keys()) this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name }, false)
    for (const name of this.heads.keys()) this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name }, false)
    this.listener.restore()
  }

  onConnectionLost (): void {
    const acks = [...this.acks.values()]
    this.acks.clear()
    for (const callback of acks) callback(CLIENT_OFFLINE, '')
    const notifies = [...this.notifies.values()]
    this.notifies.clear()
    for (const question of notifies) question.reject(CLIENT_OFFLINE)
    for (const core of this.cores.values()) core.onConnectionLost()
    this.listener.onConnectionLost()
    if (this.connection.state !== 'closed') return
    for (const waiting of [this.reads, this.heads]) {
      for (const list of waiting.values()) for (const question of list) question.reject('CLIENT_CLOSED')
      waiting.clear()
    }
  }

  /** A new record: from the offline store if it has it, else from the server once logged in. */
  private load (core: RecordCore): void {
    // Offline, restore() subscribes it after the login.
    if (this.store === null) {
      this.sendNames(RECORD_ACTION.SUBSCRIBECREATEANDREAD, [core.name])
      return
    }
    const store = this.store
    void this.dirtyNames.then((dirty) => store.get(core.name, (_name, version, data) => {
      if (core.isGone || !core.isLoading) return
      if (version === -1) {
        if (this.online) this.sendNames(RECORD_ACTION.SUBSCRIBECREATEANDREAD, [core.name])
        else core.createOffline()
        return
      }
      core.adoptCached(version, data as JSONValue, dirty.has(core.name))
      core.expectHead()
      this.sendNames(RECORD_ACTION.SUBSCRIBEANDHEAD, [core.name])
    }))
  }

  /** A subscribe-style request for `names`; not queued offline (restore() sends what the server must know). */
  private sendNames (action: number, names: string[]): void {
    this.connection.send({ topic: TOPIC.RECORD, action, names, correlationId: this.connection.correlationId() }, false)
  }

  private sendSetData (name: string, { path, data, callback }: { path?: string, data: unknown, callback?: WriteAckCallback }): void {
    checkName(name)
    if (path === undefined && (data === null || typeof data !== 'object')) throw new Error('invalid argument: data must be an object when no path is provided')
    const core = this.cores.get(name)
    if (core !== undefined) {
      core.set(path, data, callback)
      return
    }
    const action = path === undefined ? RECORD_ACTION.CREATEANDUPDATE : data === undefined ? RECORD_ACTION.ERASE : RECORD_ACTION.CREATEANDPATCH
    this.send({ topic: TOPIC.RECORD, action, name, path, version: -1, data: data === undefined ? undefined : JSON.stringify(data) }, callback)
  }

  /** What `read` says of a record this client holds, once it is ready; undefined if it holds none. */
  private held<T> (name: string, read: (core: RecordCore) => T): Promise<T> | undefined {
    checkName(name)
    const core = this.cores.get(name)
    return core === undefined ? undefined : new Promise((resolve) => core.whenReady(() => resolve(read(core))))
  }

  private ask (waiting: Map<string, Question[]>, name: string, action: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const list = waiting.get(name)
      if (list !== undefined) {
        list.push({ resolve, reject })
        return
      }
      waiting.set(name, [{ resolve, reject }])
      // Not queued offline: restore() asks again after the login.
      this.connection.send({ topic: TOPIC.RECORD, action, name }, false)
    })
  }

  private takeAck (correlationId: string | undefined): WriteAckCallback | undefined {
    return take(this.acks, correlationId)
  }

  private settleAck (correlationId: string | undefined, error: string | null, name = ''): boolean {
    const callback = this.takeAck(correlationId)
    callback?.(error, name)
    return callback !== undefined
  }

  private settleNotify (correlationId: string | undefined, error: string | null): void {
    const question = take(this.notifies, correlationId)
    if (question === undefined) return
    if (error === null) question.resolve(undefined)
    else question.reject(error)
  }

  private onServerError (message: Message): void {
    const name = message.name ?? ''
    const action = actionName(TOPIC.RECORD, message.action)
    const original = message.originalAction === undefined ? undefined : actionName(TOPIC.RECORD, message.originalAction)
    if (message.isWriteAck === true && this.settleAck(message.correlationId, action, name)) return
    if (message.originalAction === RECORD_ACTION.READ && settleAll(this.reads, name, (q) => q.reject(action))) return
    if (message.originalAction === RECORD_ACTION.HEAD && settleAll(this.heads, name, (q) => q.reject(action))) return
    const core = this.cores.get(name)
    if (core !== undefined) core.onError(action, original)
    else this.reportError(action, `${action}${name === '' ? '' : ` for record "${name}"`}`)
  }
}

function checkName (name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) throw new Error('invalid argument: name')
}

/** The value under `key`, removed from `map`. */
function take<V> (map: Map<string, V>, key: string | undefined): V | undefined {
  const value = map.get(key ?? '')
  map.delete(key ?? '')
  return value
}

/**
 * Records: live records with versioned writes and write acknowledgements,
 * plus one-shot snapshot, head, set, patch and delete.
 *
 * A live record applies its own writes at once (version + 1) and sends them
 * with that version. A write the server refuses with VERSION_EXISTS rejects
 * with a VersionConflictError, and the record takes the server's version and
 * data. Writes not yet acknowledged when the connection drops are sent again
 * after the next login; one that had in fact been applied is recognised by
 * the server holding exactly that version and data, and resolves.
 */
import { isErrorMessage, RECORD_ACTION, TOPIC } from '../native-free-core/protocol/constants.js'
import type { JSONValue, Message } from '../native-free-core/protocol/message.js'
import { getPath, setPath } from '../native-free-core/records/json-path.js'
import type { Connection, TopicModule } from './connection.js'
import { parseData } from './connection.js'
import { deferred, serverError, settleAll, type Deferred } from './acks.js'
import { ClientError, VersionConflictError } from './errors.js'

export interface RecordSnapshot {
  readonly version: number
  readonly data: JSONValue
}

/** Called with the record's data and version after every change; after a delete, once with (undefined, -1). */
export type RecordCallback = (data: JSONValue | undefined, version: number) => void

interface PendingWrite {
  readonly message: Message
  readonly done: Deferred<void>
  /** For a versioned write: the data the record holds once it is applied. */
  readonly expected?: JSONValue
}

export class LiveRecord {
  data: JSONValue = {}
  version = -1
  /** Resolves once the first read arrived. */
  readonly ready: Promise<void>
  private readonly loaded = deferred<void>()
  private readonly callbacks = new Set<RecordCallback>()
  private users = 1
  private isReady = false

  constructor (readonly name: string, private readonly records: Records) {
    this.ready = this.loaded.promise
    this.ready.catch(() => {}) // a failed load is reported to whoever awaits get()
  }

  /** The whole data, or the value at a path such as `address.city` or `tags[0]`. */
  get (path?: string): JSONValue | undefined {
    return path === undefined ? this.data : getPath(this.data, path)
  }

  subscribe (callback: RecordCallback): () => void {
    this.callbacks.add(callback)
    return () => { this.callbacks.delete(callback) }
  }

  /** Replaces the data; resolves when the write is durable on the server. */
  set (data: JSONValue): Promise<void> {
    return this.write(data, { topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: this.name, data: JSON.stringify(data) })
  }

  /** Sets one path (`undefined` erases it); resolves when the write is durable on the server. */
  patch (path: string, value: JSONValue | undefined): Promise<void> {
    const next = setPath(structuredClone(this.data), path, value)
    const action = value === undefined ? RECORD_ACTION.ERASE : RECORD_ACTION.PATCH
    return this.write(next, { topic: TOPIC.RECORD, action, name: this.name, path, data: value === undefined ? undefined : JSON.stringify(value) })
  }

  delete (): Promise<void> { return this.records.delete(this.name) }

  /** Stops following the record once every get() of it has discarded. */
  discard (): void {
    if (--this.users > 0) return
    this.records.forget(this)
  }

  private async write (next: JSONValue, message: Message): Promise<void> {
    if (!this.isReady) await this.ready
    this.version++
    this.data = next
    this.notify()
    return this.records.sendWrite({ ...message, version: this.version }, next)
  }

  /** @internal */
  retain (): void { this.users++ }

  /** @internal A full state from the server. */
  adopt (version: number, data: JSONValue, force = false): void {
    const changed = version !== this.version || JSON.stringify(data) !== JSON.stringify(this.data)
    // With own writes on their way, an older server state is not news: the writes are resent.
    if (!force && version < this.version && this.records.hasWritesFor(this.name)) return
    this.version = version
    this.data = data
    if (!this.isReady) {
      this.isReady = true
      this.loaded.resolve()
    }
    if (changed) this.notify()
  }

  /** @internal An update or patch another client made. */
  apply (message: Message): void {
    const version = message.version ?? -1
    if (!this.isReady || version <= this.version) return // stale, or our own write's conflict is on its way
    if (message.action === RECORD_ACTION.UPDATE) {
      this.adopt(version, parseData(message.data) as JSONValue)
    } else if (version === this.version + 1 && message.path !== undefined) {
      this.adopt(version, setPath(structuredClone(this.data), message.path, message.action === RECORD_ACTION.ERASE ? undefined : parseData(message.data) as JSONValue))
    } else {
      this.records.resync(this.name) // a patch after a gap cannot be applied: read the whole record
    }
  }

  /** @internal */
  fail (error: Error): void { this.loaded.reject(error) }

  /** @internal */
  deleted (): void {
    this.version = -1
    this.data = {}
    for (const callback of [...this.callbacks]) callback(undefined, -1)
  }

  private notify (): void {
    for (const callback of [...this.callbacks]) callback(this.data, this.version)
  }
}

export class Records implements TopicModule {
  readonly topic = TOPIC.RECORD
  private readonly live = new Map<string, LiveRecord>()
  private readonly reads = new Map<string, Array<Deferred<RecordSnapshot>>>()
  private readonly heads = new Map<string, Array<Deferred<number>>>()
  private readonly deletes = new Map<string, Array<Deferred<void>>>()
  /** Unacknowledged writes by correlation id, in the order they were made. */
  private readonly writes = new Map<string, PendingWrite>()

  constructor (private readonly connection: Connection, private readonly onError: (error: Error) => void) {}

  /** A live record (created empty if it does not exist); call discard() when done with it. */
  async get (name: string): Promise<LiveRecord> {
    let record = this.live.get(name)
    if (record !== undefined) {
      record.retain()
    } else {
      record = new LiveRecord(name, this)
      this.live.set(name, record)
      this.connection.send(subscribeMessage([name], this.connection.correlationId()), false)
    }
    await record.ready
    return record
  }

  /** Follows a record: `callback` gets the current data at once and every change after; returns the function that stops it. */
  async subscribe (name: string, callback: RecordCallback): Promise<() => void> {
    const record = await this.get(name)
    const stop = record.subscribe(callback)
    callback(record.data, record.version)
    return () => {
      stop()
      record.discard()
    }
  }

  /** The record's current version and data, without following it; rejects with RECORD_NOT_FOUND if it does not exist. */
  snapshot (name: string): Promise<RecordSnapshot> {
    return this.ask(this.reads, name, { topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name })
  }

  /** The record's current version; -1 if it does not exist. */
  head (name: string): Promise<number> {
    return this.ask(this.heads, name, { topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name })
  }

  /**
   * Writes without following the record, creating it if needed: the whole
   * data, or with a path just that path. Resolves when durable on the server.
   */
  set (name: string, pathOrData: string | JSONValue, value?: JSONValue): Promise<void> {
    const message: Message = typeof pathOrData === 'string' && value !== undefined
      ? { topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDPATCH, name, path: pathOrData, version: -1, data: JSON.stringify(value) }
      : { topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name, version: -1, data: JSON.stringify(pathOrData) }
    return this.sendWrite(message)
  }

  /** Sets one path of a record, creating the record if needed. */
  patch (name: string, path: string, value: JSONValue): Promise<void> { return this.set(name, path, value) }

  delete (name: string): Promise<void> {
    return this.ask(this.deletes, name, { topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name })
  }

  /** @internal */
  sendWrite (message: Message, expected?: JSONValue): Promise<void> {
    const correlationId = this.connection.correlationId()
    const write: PendingWrite = { message: { ...message, correlationId, isWriteAck: true }, done: deferred(), expected }
    this.writes.set(correlationId, write)
    this.connection.send(write.message, false) // not queued: restore() sends unacknowledged writes
    return write.done.promise
  }

  /** @internal */
  hasWritesFor (name: string): boolean {
    for (const write of this.writes.values()) if (write.message.name === name) return true
    return false
  }

  /** @internal */
  forget (record: LiveRecord): void {
    if (this.live.get(record.name) !== record) return
    this.live.delete(record.name)
    this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.UNSUBSCRIBE, names: [record.name], correlationId: this.connection.correlationId() }, false)
  }

  /** @internal */
  resync (name: string): void {
    this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name }, false)
  }

  private ask<T> (waiting: Map<string, Array<Deferred<T>>>, name: string, message: Message): Promise<T> {
    const answer = deferred<T>()
    const list = waiting.get(name)
    if (list === undefined) waiting.set(name, [answer])
    else list.push(answer)
    // Not queued offline: restore() asks every open question again after login.
    if (list === undefined) this.connection.send(message, false)
    return answer.promise
  }

  handle (message: Message): void {
    const name = message.name ?? ''
    switch (message.action) {
      case RECORD_ACTION.READ_RESPONSE: {
        const snapshot = { version: message.version ?? -1, data: parseData(message.data) as JSONValue }
        this.live.get(name)?.adopt(snapshot.version, snapshot.data)
        settleAll(this.reads, name, (d) => d.resolve(snapshot))
        return
      }
      case RECORD_ACTION.HEAD_RESPONSE: settleAll(this.heads, name, (d) => d.resolve(message.version ?? -1)); return
      case RECORD_ACTION.UPDATE:
      case RECORD_ACTION.PATCH:
      case RECORD_ACTION.ERASE:
        this.live.get(name)?.apply(message)
        return
      case RECORD_ACTION.DELETED: this.onDeleted(name); return
      case RECORD_ACTION.DELETE_SUCCESS:
        settleAll(this.deletes, name, (d) => d.resolve())
        this.onDeleted(name)
        return
      case RECORD_ACTION.WRITE_ACKNOWLEDGEMENT: this.settleWrite(message.correlationId, null); return
      case RECORD_ACTION.VERSION_EXISTS: this.onConflict(message); return
      default:
        if (message.isAck === true) return // subscribe and unsubscribe acks
        if (isErrorMessage(message)) this.onServerError(message)
    }
  }

  private onConflict (message: Message): void {
    const write = this.writes.get(message.correlationId ?? '')
    const name = message.name ?? ''
    const version = message.version ?? -1
    const data = parseData(message.data) as JSONValue
    // Resent after a reconnect but applied the first time: the server holds exactly what we wrote.
    if (write !== undefined && write.message.version === version && JSON.stringify(write.expected) === JSON.stringify(data)) {
      this.settleWrite(message.correlationId, null)
      return
    }
    this.settleWrite(message.correlationId, new VersionConflictError(name, version, data))
    this.live.get(name)?.adopt(version, data, true)
  }

  private settleWrite (correlationId: string | undefined, error: Error | null): void {
    const write = this.writes.get(correlationId ?? '')
    if (write === undefined) return
    this.writes.delete(correlationId ?? '')
    if (error === null) write.done.resolve()
    else write.done.reject(error)
  }

  private onDeleted (name: string): void {
    const record = this.live.get(name)
    if (record === undefined) return
    this.live.delete(name)
    record.deleted()
  }

  private onServerError (message: Message): void {
    const error = serverError(message)
    const name = message.name ?? ''
    if (message.correlationId !== undefined && this.writes.has(message.correlationId)) {
      this.settleWrite(message.correlationId, error)
      return
    }
    switch (message.originalAction) {
      case RECORD_ACTION.READ:
        if (settleAll(this.reads, name, (d) => d.reject(error))) return
        break
      case RECORD_ACTION.HEAD: if (settleAll(this.heads, name, (d) => d.reject(error))) return; break
      case RECORD_ACTION.DELETE: if (settleAll(this.deletes, name, (d) => d.reject(error))) return; break
      case RECORD_ACTION.SUBSCRIBECREATEANDREAD:
      case RECORD_ACTION.CREATE: {
        const record = this.live.get(name)
        if (record !== undefined) {
          this.live.delete(name)
          record.fail(error)
          return
        }
      }
    }
    this.onError(error)
  }

  restore (): void {
    if (this.live.size > 0) this.connection.send(subscribeMessage([...this.live.keys()], this.connection.correlationId()), false)
    for (const write of this.writes.values()) this.connection.send(write.message, false)
    for (const [name] of this.reads) this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name }, false)
    for (const [name] of this.heads) this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD, name }, false)
    for (const [name] of this.deletes) this.connection.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name }, false)
  }

  onConnectionLost (): void {
    if (this.connection.state !== 'closed') return // kept, and sent again by restore()
    const closed = new ClientError('CLIENT_CLOSED', 'the client was closed')
    for (const write of this.writes.values()) write.done.reject(closed)
    this.writes.clear()
    for (const waiting of [this.reads, this.heads, this.deletes] as Array<Map<string, Array<Deferred<unknown>>>>) {
      for (const list of waiting.values()) for (const d of list) d.reject(closed)
      waiting.clear()
    }
    for (const record of this.live.values()) record.fail(closed)
  }
}

function subscribeMessage (names: string[], correlationId: string): Message {
  return { topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBECREATEANDREAD, names, correlationId }
}

/**
 * One record as @deepstream/client 7 keeps it, shared by every `getRecord`, `getList` and anonymous
 * record of that name in a client: its data and version, the callbacks on its paths, its writes,
 * and the reconciling of its version with the server's after a conflict or a reconnection.
 *
 * Versions: a local write applies at once and sends version + 1. A write made offline also applies
 * at once and marks the record dirty (its version counts one pending write, whatever number of
 * writes it folds). After a login the record asks the server's version (SUBSCRIBEANDHEAD) and:
 * - not dirty, same version: nothing to do;
 * - dirty, server one behind: sends its data as that next version;
 * - otherwise it reads the server's state and reconciles: if the server holds exactly the last
 *   write this record sent, that write landed, and newer local data is sent on top; else the merge
 *   strategy (default: remote wins) decides, and a merge that differs from the server's data is
 *   sent as the next version.
 */
import { RECORD_ACTION, TOPIC } from '../../native-free-core/protocol/constants.js'
import type { JSONValue, Message } from '../../native-free-core/protocol/message.js'
import { getPath, setPath } from '../../native-free-core/records/json-path.js'
import { parseData } from '../connection.js'
import type { Emitter } from './emitter.js'

export type WriteAckCallback = (error: string | null, recordName: string) => void
export type MergeCompleteCallback = (error: string | null, mergedData: unknown) => void
export type MergeStrategy = (localValue: unknown, localVersion: number, remoteValue: unknown, remoteVersion: number, callback: MergeCompleteCallback) => void
export type SubscriptionCallback = (data: any) => void

/** The server's data is kept. */
export const REMOTE_WINS: MergeStrategy = (_local, _localVersion, remote, _remoteVersion, callback) => callback(null, remote)
/** This client's data is written over the server's. */
export const LOCAL_WINS: MergeStrategy = (local, _localVersion, _remote, _remoteVersion, callback) => callback(null, local)

/** @deepstream/client's error text for a write made while offline. */
export const CLIENT_OFFLINE = 'client offline'

/** What a record needs from the records module. */
export interface RecordHost {
  readonly online: boolean
  readonly deepCopy: boolean
  /** Offline cache: store every change (saveUpdatesOffline), not only at discard and disconnection. */
  readonly saveEveryChange: boolean
  /** Sends a record message; a write with a callback asks for an acknowledgement. */
  send (message: Message, callback?: WriteAckCallback): void
  mergeStrategyFor (name: string): MergeStrategy
  /** Offline cache: keep this record's state (and whether it is dirty). */
  save (core: RecordCore): void
  /** The record is gone (deleted or discarded by every view). */
  release (core: RecordCore, unsubscribe: boolean): void
  reportError (code: string, message: string): void
}

type State = 'loading' | 'ready' | 'reconciling' | 'gone'

interface PendingWrite { path?: string, data: unknown, callback?: WriteAckCallback }
interface Subscription { readonly callback: SubscriptionCallback, readonly owner: Emitter }

export class RecordCore {
  data: JSONValue = {}
  version: number | null = null
  hasProvider = false
  /** Local changes the server may not have (made offline, or sent just before the connection dropped). */
  dirty = false
  /** Made while offline and never on the server. */
  createdOffline = false
  private state: State = 'loading'
  private readonly views = new Set<Emitter>()
  /** Callbacks by path ('' is the whole record). */
  private readonly subscriptions = new Map<string, Subscription[]>()
  private pendingWrites: PendingWrite[] = []
  private readyCallbacks: Array<() => void> = []
  /** The last write this client sent, to recognise it on the server after a reconnection. */
  private lastSent: { version: number, data: JSONValue } | null = null
  private sentSinceLogin = false
  /** Asked the server's version (SUBSCRIBEANDHEAD) and waiting for it. */
  private awaitingHead = false
  private savePending = false
  private deleteResponse: { resolve: () => void, reject: (reason: string) => void } | null = null

  constructor (readonly name: string, private readonly host: RecordHost) {}

  get isReady (): boolean { return this.state === 'ready' || this.state === 'reconciling' }
  get isGone (): boolean { return this.state === 'gone' }
  /** Waiting for the first read from the server. */
  get isLoading (): boolean { return this.state === 'loading' }

  addView (view: Emitter): void { this.views.add(view) }

  /** A view is discarded: its callbacks go, and with the last view the record. */
  removeView (view: Emitter): void {
    for (const path of [...this.subscriptions.keys()]) this.keepSubscriptions(path, (each) => each.owner !== view)
    this.views.delete(view)
    view.emit('discard')
    if (this.views.size > 0 || this.state === 'gone') return
    this.host.save(this)
    this.destroy()
    this.host.release(this, true)
  }

  whenReady (callback: () => void): void {
    if (this.isReady) callback()
    else this.readyCallbacks.push(callback)
  }

  get (path?: string): any {
    const value = path === undefined || path === '' ? this.data : getPath(this.data, path)
    return this.host.deepCopy && value !== undefined ? copyJson(value) : value
  }

  set (path: string | undefined, data: unknown, callback?: WriteAckCallback): void {
    if (path === undefined && (data === null || typeof data !== 'object')) throw new Error('invalid arguments, scalar values cannot be set without path')
    if (this.state === 'gone') {
      this.host.reportError('RECORD_ALREADY_DESTROYED', `record "${this.name}" was discarded or deleted: set is ignored`)
      return
    }
    if (!this.isReady) {
      this.pendingWrites.push({ path, data, callback })
      return
    }
    const next = path === undefined ? asJson(data) : setPath(copyJson(this.data), path, data === undefined ? undefined : asJson(data))
    if (deepEqual(this.data, next)) {
      if (callback !== undefined) queueMicrotask(() => callback(null, this.name))
      return
    }
    this.applyChange(next)
    if (this.host.online) {
      this.sendUpdate(path, data, callback)
    } else {
      callback?.(CLIENT_OFFLINE, this.name)
      this.changedOffline()
    }
  }

  subscribe (path: string, callback: SubscriptionCallback, owner: Emitter, triggerNow: boolean): void {
    if (this.state === 'gone') return
    const add = (): void => {
      const list = this.subscriptions.get(path)
      if (list === undefined) this.subscriptions.set(path, [{ callback, owner }])
      else list.push({ callback, owner })
    }
    if (!triggerNow) {
      add()
      return
    }
    this.whenReady(() => {
      add()
      callback(this.get(path))
    })
  }

  unsubscribe (path: string, callback: SubscriptionCallback | undefined, owner: Emitter): void {
    this.keepSubscriptions(path, (each) => each.owner !== owner || (callback !== undefined && each.callback !== callback))
  }

  /** Keeps the callbacks of `path` that `keep` says to; the path goes with its last. */
  private keepSubscriptions (path: string, keep: (subscription: Subscription) => boolean): void {
    const kept = this.subscriptions.get(path)?.filter(keep)
    if (kept === undefined) return
    if (kept.length === 0) this.subscriptions.delete(path)
    else this.subscriptions.set(path, kept)
  }

  delete (): Promise<void> {
    if (!this.host.online) return Promise.reject('Deleting while offline is not supported') // a string, as @deepstream/client rejects
    return new Promise((resolve, reject) => {
      this.deleteResponse = { resolve, reject: (reason) => reject(reason) }
      this.whenReady(() => this.host.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: this.name }))
    })
  }

  /** Taken from the offline cache: ready at once, and checked against the server after login. */
  adoptCached (version: number, data: JSONValue, dirty: boolean): void {
    this.version = version
    this.data = data
    this.dirty = dirty
    this.becomeReady()
  }

  /** Never on the server and made offline: ready at once, created on the server after login. */
  createOffline (): void {
    this.createdOffline = true
    this.adoptCached(1, {}, true)
  }

  /** The connection dropped: a record that sent writes since the login may have lost them. */
  onConnectionLost (): void {
    if (this.sentSinceLogin) this.dirty = true
    this.sentSinceLogin = false
    this.host.save(this)
  }

  handle (message: Message): void {
    switch (message.action) {
      case RECORD_ACTION.READ_RESPONSE: this.onRead(message.version ?? -1, parseData(message.data) as JSONValue); return
      case RECORD_ACTION.UPDATE:
      case RECORD_ACTION.PATCH:
      case RECORD_ACTION.ERASE:
        this.onRemoteWrite(message)
        return
      case RECORD_ACTION.DELETE_SUCCESS:
        this.deleteResponse?.resolve()
        this.deleteResponse = null
        this.onDeleted()
        return
      case RECORD_ACTION.DELETED: this.onDeleted(); return
      case RECORD_ACTION.SUBSCRIPTION_HAS_PROVIDER:
      case RECORD_ACTION.SUBSCRIPTION_HAS_NO_PROVIDER:
        this.hasProvider = message.action === RECORD_ACTION.SUBSCRIPTION_HAS_PROVIDER
        this.emit('hasProviderChanged', this.hasProvider)
    }
  }

  /**
   * A write of this record lost (VERSION_EXISTS, with the server's version and data): the merge
   * strategy decides. `callback` is the lost write's acknowledgement, if it asked for one: it hears
   * null when the server holds what it wrote, the merged write's outcome when the merge is sent,
   * and VERSION_EXISTS when the server's data is kept instead (@deepstream/client never calls it).
   */
  onConflict (version: number, data: JSONValue, callback?: WriteAckCallback): void {
    if (this.state === 'gone') callback?.('VERSION_EXISTS', this.name)
    else this.reconcile(version, data, callback)
  }

  /** A refusal of something this record sent (its subscription, a write without ack, its delete). */
  onError (action: string, originalAction: string | undefined): void {
    if (originalAction === 'DELETE' && this.deleteResponse !== null) {
      this.deleteResponse.reject(action)
      this.deleteResponse = null
    }
    if ([...this.views].some((view) => view.hasListeners('error'))) this.emit('error', action, originalAction)
    else this.host.reportError(action, `${action} for record "${this.name}"${originalAction === undefined ? '' : ` (${originalAction})`}`)
  }

  /** Re-subscribing by version (SUBSCRIBEANDHEAD): the next HEAD answer for this name is for the record. */
  expectHead (): void { this.awaitingHead = true }

  /** The server's version after a login (SUBSCRIBEANDHEAD), for a record this client held. */
  onHead (remote: number): void {
    if (this.state === 'gone' || !this.awaitingHead) return
    this.awaitingHead = false
    this.sentSinceLogin = false
    if (remote === -1) {
      if (this.dirty && this.createdOffline) this.sendCreate()
      else this.reconcile(-1, null)
      return
    }
    if (!this.dirty && remote === this.version) return
    if (this.dirty && this.version !== null && remote === this.version - 1) {
      this.sendUpdate(undefined, this.data)
      return
    }
    this.state = 'reconciling'
    this.host.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: this.name })
  }

  private onRead (version: number, data: JSONValue): void {
    if (this.state === 'loading') {
      this.version = version
      this.data = data ?? {}
      this.becomeReady()
    } else if (this.state !== 'gone') {
      this.reconcile(version, data)
    }
  }

  private onRemoteWrite (message: Message): void {
    const version = message.version ?? -1
    if (this.state !== 'ready' || this.version === null || version <= this.version) return // loading, reconciling, or already known
    if (version !== this.version + 1) {
      if (message.action === RECORD_ACTION.UPDATE) {
        this.reconcile(version, parseData(message.data) as JSONValue)
      } else {
        // A patch after a gap cannot be applied: read the whole record.
        this.state = 'reconciling'
        this.host.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: this.name })
      }
      return
    }
    const value = parseData(message.data) as JSONValue
    const next = message.action === RECORD_ACTION.UPDATE
      ? value
      : setPath(copyJson(this.data), message.path ?? '', message.action === RECORD_ACTION.ERASE ? undefined : value)
    this.version = version
    this.applyChange(next)
  }

  /**
   * Brings the record to the server's state: a conflict (VERSION_EXISTS), a gap in the updates, or
   * the read after a reconnection. `remoteData` null with version -1: deleted on the server.
   */
  private reconcile (remoteVersion: number, remoteData: JSONValue | null, callback?: WriteAckCallback): void {
    const local = this.get() as JSONValue
    if (remoteVersion !== -1 && this.lastSent !== null && this.lastSent.version === remoteVersion && deepEqual(this.lastSent.data, remoteData)) {
      // The server holds this client's last write: it landed, and what changed since goes on top.
      this.version = remoteVersion
      this.state = 'ready'
      this.lastSent = null
      if (this.dirty || !deepEqual(local, remoteData)) {
        this.dirty = false
        this.sendUpdate(undefined, local, callback)
      } else {
        this.dirty = false
        callback?.(null, this.name)
      }
      return
    }
    this.state = 'reconciling'
    const localVersion = this.version ?? -1
    this.host.mergeStrategyFor(this.name)(local, localVersion, remoteData, remoteVersion, (error, merged) => {
      if (this.state === 'gone') return
      this.state = 'ready'
      if (error !== null) {
        callback?.(error, this.name)
        this.host.reportError('VERSION_EXISTS', `record "${this.name}": the merge strategy failed: ${error}`)
        return
      }
      if (remoteVersion === -1 && merged === null) {
        this.onDeleted()
        return
      }
      this.version = Math.max(remoteVersion, 0)
      this.dirty = false
      this.createdOffline = false
      if (deepEqual(merged, remoteData)) {
        this.applyChange(remoteData ?? {})
        this.host.save(this)
        callback?.(deepEqual(local, remoteData) ? null : 'VERSION_EXISTS', this.name)
        return
      }
      this.applyChange(asJson(merged))
      if (remoteVersion === -1) this.sendCreate()
      else this.sendUpdate(undefined, this.data, callback)
    })
  }

  private becomeReady (): void {
    const first = this.state === 'loading'
    this.state = 'ready'
    if (!first) return
    const writes = this.pendingWrites
    this.pendingWrites = []
    if (writes.length > 0) this.applyPendingWrites(writes)
    // Every callback hears the first state.
    this.applyChange(this.data, true)
    const callbacks = this.readyCallbacks
    this.readyCallbacks = []
    for (const callback of callbacks) callback()
    this.emit('ready')
  }

  /** Writes made before the record was ready go as one update. */
  private applyPendingWrites (writes: PendingWrite[]): void {
    let next = copyJson(this.data)
    for (const write of writes) next = write.path === undefined ? asJson(write.data) : setPath(next, write.path, write.data === undefined ? undefined : asJson(write.data))
    const callbacks = writes.flatMap((write) => write.callback === undefined ? [] : [write.callback])
    const all = callbacks.length === 0 ? undefined : (error: string | null): void => { for (const callback of callbacks) callback(error, this.name) }
    if (deepEqual(this.data, next)) {
      all?.(null)
      return
    }
    this.data = next
    if (this.host.online) {
      this.sendUpdate(undefined, next, all)
    } else {
      all?.(CLIENT_OFFLINE)
      this.changedOffline()
    }
  }

  private changedOffline (): void {
    if (!this.dirty) {
      this.version = (this.version ?? 0) + 1
      this.dirty = true
    }
    this.host.save(this)
  }

  private sendUpdate (path: string | undefined, data: unknown, callback?: WriteAckCallback): void {
    if (this.dirty) this.dirty = false
    else this.version = (this.version ?? 0) + 1
    const message: Message = { topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: this.name, version: this.version ?? 0 }
    if (path === undefined) {
      message.data = JSON.stringify(data)
    } else {
      message.path = path
      if (data === undefined) message.action = RECORD_ACTION.ERASE
      else {
        message.action = RECORD_ACTION.PATCH
        message.data = JSON.stringify(data)
      }
    }
    this.lastSent = { version: message.version ?? 0, data: copyJson(this.data) }
    this.sentSinceLogin = true
    this.host.send(message, callback)
  }

  private sendCreate (): void {
    this.createdOffline = false
    this.dirty = false
    this.host.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: this.name, version: -1, data: JSON.stringify(this.data) })
    this.sentSinceLogin = true
    this.lastSent = null
    // The server numbers it: a read that follows gives the version, and what others wrote meanwhile.
    this.state = 'reconciling'
    this.host.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: this.name })
  }

  /** Sets the data and calls the callbacks of every path whose value changed. */
  private applyChange (next: JSONValue, force = false): void {
    if (this.state === 'gone') return
    const previous = this.data
    this.data = next
    if (this.host.saveEveryChange) this.saveSoon()
    for (const [path, list] of [...this.subscriptions]) {
      const before = path === '' ? previous : getPath(previous, path)
      const after = path === '' ? next : getPath(next, path)
      if (deepEqual(before, after) && !(force && after !== undefined)) continue
      for (const { callback } of [...list]) callback(this.get(path))
    }
  }

  /** Stores the record at the end of the turn, once its version matches its data again. */
  private saveSoon (): void {
    if (this.savePending) return
    this.savePending = true
    queueMicrotask(() => {
      this.savePending = false
      this.host.save(this)
    })
  }

  private onDeleted (): void {
    if (this.state === 'gone') return
    this.emit('delete')
    this.destroy()
    this.host.release(this, false)
  }

  private destroy (): void {
    this.state = 'gone'
    this.subscriptions.clear()
    this.readyCallbacks = []
    this.pendingWrites = []
  }

  private emit (event: string, ...args: unknown[]): void {
    for (const view of [...this.views]) view.emit(event, ...args)
  }
}

/** What the app gave, as the server will hold it: through JSON (dates become text, undefined values go). */
function asJson (value: unknown): JSONValue {
  return JSON.parse(JSON.stringify(value)) as JSONValue
}

/**
 * A deep copy of a JSON value: several times faster than structuredClone for record data. A
 * `__proto__` key (JSON.parse makes it an own property) stays a key, not a prototype.
 */
export function copyJson<T> (value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(copyJson) as T
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const item = copyJson((value as Record<string, unknown>)[key])
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true })
    else copy[key] = item
  }
  return copy as T
}

/** Structural equality of JSON values (key order does not matter). */
export function deepEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  for (const key of keysA) {
    if (!Object.hasOwn(b, key) || !deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false
  }
  return true
}

/**
 * What `getRecord`, `getList` and `getAnonymousRecord` return, as in @deepstream/client 7: views on
 * a shared RecordCore. Each view owns the callbacks subscribed through it, and `discard` removes
 * them; the record is unsubscribed when its last view is discarded.
 */
import { RecordCore, type MergeStrategy, type SubscriptionCallback, type WriteAckCallback } from './record-core.js'
import { Emitter } from './emitter.js'
import { acknowledged, withCallback } from './callback-forms.js'

/** What the views need from the records module. */
export interface ViewHost {
  core (name: string): RecordCore
  setMergeStrategy (name: string, strategy: MergeStrategy): void
}

type ErrorCallback = (error: string | null) => void

interface SetArguments { path?: string, data: unknown, callback?: WriteAckCallback }

/** `set(data, callback?)` or `set(path, data, callback?)`. */
export function setArguments (args: unknown[]): SetArguments {
  if (typeof args[0] === 'string') return { path: args[0], data: args[1], callback: args[2] as WriteAckCallback | undefined }
  return { data: args[0], callback: args[1] as WriteAckCallback | undefined }
}

interface SubscribeArguments { path: string, callback: SubscriptionCallback, triggerNow: boolean }

/** `subscribe(callback, triggerNow?)` or `subscribe(path, callback, triggerNow?)`. */
function subscribeArguments (args: unknown[]): SubscribeArguments {
  const [first, second, third] = args
  const withPath = typeof first === 'string'
  const callback = withPath ? second : first
  if (withPath && first.length === 0) throw new Error('invalid argument path')
  if (typeof callback !== 'function') throw new Error('invalid argument callback')
  return { path: withPath ? first : '', callback: callback as SubscriptionCallback, triggerNow: (withPath ? third : second) === true }
}

/** What records and lists share: name, readiness, version, discard and delete. */
abstract class RecordView extends Emitter {
  private discarded = false

  constructor (protected readonly record: RecordCore, protected readonly host: ViewHost) {
    super()
    record.addView(this)
  }

  get name (): string { return this.record.name }
  get isReady (): boolean { return this.record.isReady }
  get version (): number | null { return this.record.version }

  whenReady (): Promise<this>
  whenReady (callback: (record: this) => void): void
  whenReady (callback?: (record: this) => void): Promise<this> | undefined {
    if (callback !== undefined) {
      this.record.whenReady(() => callback(this))
      return undefined
    }
    return new Promise((resolve) => this.record.whenReady(() => resolve(this)))
  }

  discard (): void {
    if (!this.usable('discard')) return
    this.discarded = true
    this.record.removeView(this)
  }

  delete (): Promise<void>
  delete (callback: ErrorCallback): void
  delete (callback?: ErrorCallback): Promise<void> | undefined {
    return withCallback(this.record.delete(), callback)
  }

  /** A discarded view refuses further use with an `error` event, as @deepstream/client's does. */
  protected usable (method: string): boolean {
    if (!this.discarded) return true
    this.emit('error', 'RECORD_ALREADY_DESTROYED', method)
    return false
  }

  protected write (path: string | undefined, data: unknown, callback?: WriteAckCallback): void {
    if (this.usable('set')) this.record.set(path, data, callback)
  }

  protected writeWithAck (path: string | undefined, data: unknown): Promise<void> {
    return acknowledged((callback) => this.write(path, data, callback))
  }
}

/** A record: `client.record.getRecord(name)`. */
export class CompatRecord extends RecordView {
  get hasProvider (): boolean { return this.record.hasProvider }

  get (path?: string): any { return this.record.get(path) }

  set (data: unknown, callback?: WriteAckCallback): void
  set (path: string, data: unknown, callback?: WriteAckCallback): void
  set (...args: unknown[]): void {
    const { path, data, callback } = setArguments(args)
    this.write(path, data, callback)
  }

  setWithAck (data: unknown): Promise<void>
  setWithAck (data: unknown, callback: ErrorCallback): void
  setWithAck (path: string, data: unknown): Promise<void>
  setWithAck (path: string, data: unknown, callback: ErrorCallback): void
  setWithAck (...args: unknown[]): Promise<void> | undefined {
    const { path, data, callback } = setArguments(args)
    return withCallback(this.writeWithAck(path, data), callback as ErrorCallback | undefined)
  }

  erase (path: string): void { this.write(path, undefined) }

  eraseWithAck (path: string): Promise<void>
  eraseWithAck (path: string, callback: ErrorCallback): void
  eraseWithAck (path: string, callback?: ErrorCallback): Promise<void> | undefined {
    return withCallback(this.writeWithAck(path, undefined), callback)
  }

  subscribe (callback: SubscriptionCallback, triggerNow?: boolean): void
  subscribe (path: string, callback: SubscriptionCallback, triggerNow?: boolean): void
  subscribe (...args: unknown[]): void {
    const { path, callback, triggerNow } = subscribeArguments(args)
    this.follow(path, callback, triggerNow)
  }

  unsubscribe (callback?: SubscriptionCallback): void
  unsubscribe (path: string, callback?: SubscriptionCallback): void
  unsubscribe (pathOrCallback?: string | SubscriptionCallback, callback?: SubscriptionCallback): void {
    if (typeof pathOrCallback === 'string') this.record.unsubscribe(pathOrCallback, callback, this)
    else this.record.unsubscribe('', pathOrCallback, this)
  }

  setMergeStrategy (strategy: MergeStrategy): void { this.host.setMergeStrategy(this.name, strategy) }

  /** @internal subscribe with its arguments parsed ('' is the whole record). */
  follow (path: string, callback: SubscriptionCallback, triggerNow: boolean): void {
    if (this.usable('subscribe')) this.record.subscribe(path, callback, this, triggerNow)
  }
}

/** A list of record names: `client.record.getList(name)`. */
export class CompatList extends RecordView {
  /** Each subscriber's callback, as wrapped to hear the entries. */
  private readonly wrapped = new Map<(entries: string[]) => void, SubscriptionCallback>()
  /** The entries last seen, to tell entry-added, entry-removed and entry-moved listeners what changed. */
  private seen: string[] = []

  constructor (record: RecordCore, host: ViewHost) {
    super(record, host)
    record.subscribe('', () => this.onChange(), this, false)
  }

  getEntries (): string[] {
    const entries = this.record.get()
    return Array.isArray(entries) ? entries as string[] : []
  }

  isEmpty (): boolean { return this.getEntries().length === 0 }

  setEntries (entries: string[], callback?: WriteAckCallback): void {
    if (!Array.isArray(entries) || entries.some((entry) => typeof entry !== 'string')) throw new Error('entries must be an array of record names')
    this.write(undefined, entries, callback)
  }

  setEntriesWithAck (entries: string[]): Promise<void>
  setEntriesWithAck (entries: string[], callback: WriteAckCallback): void
  setEntriesWithAck (entries: string[], callback?: WriteAckCallback): Promise<void> | undefined {
    if (callback !== undefined) {
      this.setEntries(entries, callback)
      return undefined
    }
    return acknowledged((ack) => this.setEntries(entries, ack))
  }

  addEntry (entry: string, index?: number, callback?: WriteAckCallback): void {
    if (typeof entry !== 'string') throw new Error('Entry must be a recordName')
    const entries = this.getEntries()
    if (this.checkIndex(index, entries)) entries.splice(index, 0, entry)
    else entries.push(entry)
    this.write(undefined, entries, callback)
  }

  /** Removes every occurrence of `entry`, or with `index` only the one there. */
  removeEntry (entry: string, index?: number, callback?: WriteAckCallback): void {
    const entries = this.getEntries()
    const atIndex = this.checkIndex(index, entries)
    this.write(undefined, entries.filter((each, i) => each !== entry || (atIndex && i !== index)), callback)
  }

  subscribe (callback: (entries: string[]) => void, triggerNow?: boolean): void {
    if (typeof callback !== 'function') throw new Error('path is not supported for List.subscribe')
    const wrapped: SubscriptionCallback = () => callback(this.getEntries())
    this.wrapped.set(callback, wrapped)
    if (this.usable('subscribe')) this.record.subscribe('', wrapped, this, triggerNow === true)
  }

  unsubscribe (callback?: (entries: string[]) => void): void {
    if (typeof callback === 'string') throw new Error('path is not supported for List.unsubscribe')
    const wrapped = callback === undefined ? [...this.wrapped.values()] : [this.wrapped.get(callback)]
    if (callback === undefined) this.wrapped.clear()
    else this.wrapped.delete(callback)
    for (const each of wrapped) if (each !== undefined) this.record.unsubscribe('', each, this)
  }

  private checkIndex (index: number | undefined, entries: string[]): index is number {
    if (index === undefined) return false
    if (Number.isNaN(index)) throw new Error('Index must be a number')
    if (index !== entries.length && (index >= entries.length || index < 0)) throw new Error('Index must be within current entries')
    return true
  }

  /** The k-th occurrence of an entry: removed when the list has fewer now, added when new, moved when at another index. */
  private onChange (): void {
    const before = positions(this.seen)
    this.seen = this.getEntries()
    if (!this.record.isReady) return // the first state is not a change
    const after = positions(this.seen)
    for (const [entry, was] of before) {
      const now = after.get(entry) ?? []
      for (let k = now.length; k < was.length; k++) this.emit('entry-removed', entry, was[k])
    }
    for (const [entry, now] of after) {
      const was = before.get(entry) ?? []
      for (let k = 0; k < now.length; k++) {
        if (was[k] === undefined) this.emit('entry-added', entry, now[k])
        else if (was[k] !== now[k]) this.emit('entry-moved', entry, now[k])
      }
    }
  }
}

function positions (entries: string[]): Map<string, number[]> {
  const map = new Map<string, number[]>()
  entries.forEach((entry, i) => {
    const list = map.get(entry)
    if (list === undefined) map.set(entry, [i])
    else list.push(i)
  })
  return map
}

/** A record whose name can change: `client.record.getAnonymousRecord()`, then `setName`. */
export class CompatAnonymousRecord extends Emitter {
  private record: CompatRecord | null = null
  private subscriptions: SubscribeArguments[] = []

  constructor (private readonly host: ViewHost) { super() }

  get name (): string | null { return this.record?.name ?? null }
  get isReady (): boolean { return this.record?.isReady ?? false }
  get version (): number | null { return this.record?.version ?? null }

  whenReady (): Promise<this> | undefined
  whenReady (callback: (record: this) => void): void
  whenReady (callback?: (record: this) => void): Promise<this> | undefined {
    if (this.record === null) return undefined
    if (callback !== undefined) {
      this.record.whenReady(() => callback(this))
      return undefined
    }
    return this.record.whenReady().then(() => this)
  }

  /** Follows another record: the callbacks move to it, and it resolves once that record is ready. */
  setName (name: string): Promise<this>
  setName (name: string, callback: (record: this) => void): void
  setName (name: string, callback?: (record: this) => void): Promise<this> | undefined {
    if (this.record?.name !== name) {
      this.discard()
      const record = new CompatRecord(this.host.core(name), this.host)
      for (const event of ['delete', 'error', 'hasProviderChanged']) record.on(event, (...args: unknown[]) => this.emit(event, ...args))
      this.record = record
      for (const { path, callback: each, triggerNow } of this.subscriptions) record.follow(path, each, triggerNow)
      this.emit('nameChanged', name)
    }
    if (callback === undefined) return this.whenReady()
    this.whenReady(callback)
    return undefined
  }

  get (path?: string): any { return this.record?.get(path) }

  set (data: unknown, callback?: WriteAckCallback): void
  set (path: string, data: unknown, callback?: WriteAckCallback): void
  set (...args: unknown[]): void { (this.record?.set as ((...a: unknown[]) => void) | undefined)?.apply(this.record, args) }

  setWithAck (...args: unknown[]): Promise<void> | undefined {
    return (this.record?.setWithAck as ((...a: unknown[]) => Promise<void> | undefined) | undefined)?.apply(this.record, args)
  }

  erase (path: string): void { this.record?.erase(path) }

  eraseWithAck (path: string, callback?: ErrorCallback): Promise<void> | undefined {
    if (this.record === null) return undefined
    if (callback === undefined) return this.record.eraseWithAck(path)
    this.record.eraseWithAck(path, callback)
    return undefined
  }

  subscribe (callback: SubscriptionCallback, triggerNow?: boolean): void
  subscribe (path: string, callback: SubscriptionCallback, triggerNow?: boolean): void
  subscribe (...args: unknown[]): void {
    const parsed = subscribeArguments(args)
    this.subscriptions.push(parsed)
    this.record?.follow(parsed.path, parsed.callback, parsed.triggerNow)
  }

  unsubscribe (pathOrCallback?: string | SubscriptionCallback, callback?: SubscriptionCallback): void {
    const path = typeof pathOrCallback === 'string' ? pathOrCallback : ''
    const which = typeof pathOrCallback === 'string' ? callback : pathOrCallback
    this.subscriptions = this.subscriptions.filter((each) => each.path !== path || (which !== undefined && each.callback !== which))
    if (typeof pathOrCallback === 'string') this.record?.unsubscribe(pathOrCallback, callback)
    else this.record?.unsubscribe(pathOrCallback)
  }

  discard (): void {
    const record = this.record
    this.record = null
    record?.discard()
  }

  delete (callback?: ErrorCallback): Promise<void> | undefined {
    if (this.record === null) return undefined
    if (callback === undefined) return this.record.delete()
    this.record.delete(callback)
    return undefined
  }

  setMergeStrategy (strategy: MergeStrategy): void { this.record?.setMergeStrategy(strategy) }
}

/**
 * Records: subscribe-and-read, read, head, versioned
 * writes with conflicts and write acknowledgements, delete, notify, and
 * listening. Writes to one record are decided one after another (SerialQueues):
 * those that queue behind a commit are decided together against the record
 * and committed as one conditional write, so a version is decided once, two
 * racing writers cannot both win, and a busy record commits many writes at a
 * time.
 */
import { RECORD_ACTION, TOPIC } from '../protocol/constants.js'
import type { JSONValue, Message } from '../protocol/message.js'
import type { Socket } from '../connection/socket.js'
import type { CoreServices, TopicHandler } from './services.js'
import type { SubscriptionRegistry } from '../plugins/subscription-registry/subscription-registry.js'
import { subscriptionChannel } from '../plugins/subscription-registry/subscription-registry.js'
import type { EncodedFrames } from '../plugins/cluster-node/cluster-node.js'
import { ListenRegistry } from './listen-registry.js'
import { RecordStoreError, SerialQueues, type RecordStore } from '../records/record-store.js'
import type { StoredRecord } from '../plugins/cache/cache.js'
import { KnownVersions } from '../records/known-versions.js'
import { InvalidPathError, setPath } from '../records/json-path.js'
import { checkPermission, sendDenied, type Verdict } from './permission-check.js'
import { sendBulkAck, sendInvalid, withinLimit } from './bulk-subscriptions.js'
import { jsonTooDeep, MAX_JSON_DEPTH } from '../protocol/json-schema.js'
import { errorMessage } from '../errors.js'

const WRITES = new Set<number>([RECORD_ACTION.UPDATE, RECORD_ACTION.PATCH, RECORD_ACTION.ERASE, RECORD_ACTION.CREATEANDUPDATE, RECORD_ACTION.CREATEANDPATCH])

/** How often a write is recomputed after losing a race to another thread before it gives up. */
const MAX_WRITE_ATTEMPTS = 64

/** Thrown to end a write that the client must hear refused: the reply, not an error of the server. */
class WriteRefused {
  constructor (readonly reply: Message) {}
}

/**
 * A write waiting in its record's queue. `permitted`: an upsert's permission verdict, once checked
 * in the queue (so that the write holds its place before any await); `refused` is set when it is
 * decided against.
 */
interface QueuedWrite {
  readonly socket: Socket
  readonly message: Message
  readonly value: JSONValue | undefined
  readonly isPatch: boolean
  readonly upsert: boolean
  permitted: boolean | null
  refused: WriteRefused | null
  /** Once its update has been written to the record's other subscribers (asked for with the publish). */
  delivered: Promise<void> | null
}

export class RecordHandler implements TopicHandler {
  private readonly subscriptions: SubscriptionRegistry
  private readonly listeners: ListenRegistry
  private readonly queues = new SerialQueues()
  private readonly known = new KnownVersions()

  /** `store` is the server's: the handler reads and writes through it, the server closes it. */
  constructor (private readonly services: CoreServices, private readonly store: RecordStore) {
    this.subscriptions = services.subscriptions.getSubscriptionRegistry('record')
    this.listeners = new ListenRegistry(TOPIC.RECORD, RECORD_ACTION, services, this.subscriptions, (name, has) => {
      const action = has ? RECORD_ACTION.SUBSCRIPTION_HAS_PROVIDER : RECORD_ACTION.SUBSCRIPTION_HAS_NO_PROVIDER
      this.subscriptions.sendToLocalSubscribers(name, { topic: TOPIC.RECORD, action, name }, null)
    })
    this.subscriptions.setListener(this.listeners)
    services.clusterNode.subscribe(subscriptionChannel('record'), (message, _from, _receivedAt, frames) => this.fromCluster(message, frames))
  }

  handle (socket: Socket, message: Message): void {
    switch (message.action) {
      case RECORD_ACTION.SUBSCRIBECREATEANDREAD:
      case RECORD_ACTION.SUBSCRIBEANDREAD:
        socket.send({ ...message, isAck: true })
        for (const name of message.names ?? []) void this.subscribeAndRead(socket, message, name)
        return
      case RECORD_ACTION.SUBSCRIBEANDHEAD: void this.subscribeAndHead(socket, message); return
      case RECORD_ACTION.UNSUBSCRIBE:
        for (const name of message.names ?? []) this.subscriptions.unsubscribe(name, socket)
        sendBulkAck(socket, message)
        return
      case RECORD_ACTION.READ: void this.read(socket, message); return
      case RECORD_ACTION.HEAD: void this.head(socket, message); return
      case RECORD_ACTION.DELETE: void this.delete(socket, message); return
      case RECORD_ACTION.NOTIFY: void this.notify(socket, message); return
      case RECORD_ACTION.LISTEN:
      case RECORD_ACTION.UNLISTEN:
      case RECORD_ACTION.LISTEN_ACCEPT:
      case RECORD_ACTION.LISTEN_REJECT:
        this.listeners.handle(socket, message)
        return
      default:
        if (WRITES.has(message.action)) void this.write(socket, message)
        else sendInvalid(socket, message, `unknown record action ${message.action}`)
    }
  }

  /** Whether `action` on `name` is allowed; a denial is sent. Synchronous when the permission plugin is. */
  private authorize (socket: Socket, message: Message, action: number, name: string): boolean | Promise<boolean> {
    const verdict = checkPermission(this.services, socket, message, action, name)
    const allows = (settled: Verdict): boolean => {
      if (settled !== 'allowed') sendDenied(socket, message, name, settled)
      return settled === 'allowed'
    }
    return typeof verdict === 'string' ? allows(verdict) : verdict.then(allows)
  }

  private async subscribeAndRead (socket: Socket, message: Message, name: string): Promise<void> {
    try {
      const create = message.action === RECORD_ACTION.SUBSCRIBECREATEANDREAD
      let record = await this.loadAfterWrites(name)
      if (record === null && create) {
        if (!(await this.authorize(socket, message, RECORD_ACTION.CREATE, name))) return
        await this.queues.run(name, async () => {
          record = await this.store.load(name)
          if (record === null) {
            record = await this.store.writeIfVersion(name, -1, 0, {}) ? { version: 0, data: {} } : await this.store.load(name)
          }
        })
      }
      // The pipeline checked SUBSCRIBEANDREAD's names for read already; SUBSCRIBECREATEANDREAD is
      // checked here, create first, since only here is it known whether the record exists.
      if (message.action !== RECORD_ACTION.SUBSCRIBEANDREAD && !(await this.authorize(socket, message, RECORD_ACTION.READ, name))) return
      if (socket.isClosed || !withinLimit(this.subscriptions, socket, message, name)) return
      this.listeners.settle(name)
      if (!this.subscriptions.subscribe(name, socket)) {
        // Already subscribed: deepstream says so (naming a plain SUBSCRIBE) and still answers the read.
        socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.MULTIPLE_SUBSCRIPTIONS, originalAction: RECORD_ACTION.SUBSCRIBE, name })
      }
      const current = record as { version: number, data: JSONValue } | null
      socket.send({
        topic: TOPIC.RECORD,
        action: RECORD_ACTION.READ_RESPONSE,
        name,
        version: current?.version ?? -1,
        data: JSON.stringify(current?.data ?? {}),
      })
      if (this.listeners.hasProvider(name)) socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIPTION_HAS_PROVIDER, name })
    } catch (error) {
      this.sendStoreError(socket, message, name, error)
    }
  }

  private async subscribeAndHead (socket: Socket, message: Message): Promise<void> {
    const names = message.names ?? []
    try {
      const { versions, missing } = await this.store.headBulk(names)
      socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD_RESPONSE_BULK, versions })
      for (const name of names) {
        if (!withinLimit(this.subscriptions, socket, message, name)) continue
        this.listeners.settle(name)
        this.subscriptions.subscribe(name, socket)
      }
      sendBulkAck(socket, message)
      for (const name of missing) {
        const version = await this.store.head(name)
        socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD_RESPONSE, name, version })
      }
      for (const name of names) {
        if (this.listeners.hasProvider(name)) socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIPTION_HAS_PROVIDER, name })
      }
    } catch (error) {
      this.sendStoreError(socket, message, names[0] ?? '', error)
    }
  }

  /**
   * The record once the writes this worker has queued for it are stored, so that a client reads
   * its own writes, as it would from deepstream's in-memory cache.
   */
  private async loadAfterWrites (name: string): Promise<StoredRecord | null> {
    await this.queues.settled(name)
    return await this.store.load(name)
  }

  private async read (socket: Socket, message: Message): Promise<void> {
    const name = message.name ?? ''
    try {
      const record = await this.loadAfterWrites(name)
      if (record === null) {
        socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.RECORD_NOT_FOUND, originalAction: RECORD_ACTION.READ, name, isError: true })
        return
      }
      socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.READ_RESPONSE, name, version: record.version, data: JSON.stringify(record.data) })
    } catch (error) {
      this.sendStoreError(socket, message, name, error)
    }
  }

  private async head (socket: Socket, message: Message): Promise<void> {
    const name = message.name ?? ''
    try {
      await this.queues.settled(name)
      socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.HEAD_RESPONSE, name, version: await this.store.head(name) })
    } catch (error) {
      this.sendStoreError(socket, message, name, error)
    }
  }

  private async write (socket: Socket, message: Message): Promise<void> {
    const name = message.name
    if (typeof name !== 'string' || name === '') {
      sendInvalid(socket, message, 'a write needs a record name')
      return
    }
    const upsert = message.action === RECORD_ACTION.CREATEANDUPDATE || message.action === RECORD_ACTION.CREATEANDPATCH
    const isPatch = message.action === RECORD_ACTION.PATCH || message.action === RECORD_ACTION.CREATEANDPATCH ||
      message.action === RECORD_ACTION.ERASE || (upsert && message.path !== undefined)
    if (message.data !== undefined && typeof message.data !== 'string') {
      sendInvalid(socket, message, 'record data must be JSON, not binary')
      return
    }
    if (message.data !== undefined && jsonTooDeep(message.data)) {
      sendInvalid(socket, message, `data nests deeper than ${MAX_JSON_DEPTH} levels`)
      return
    }
    let value: JSONValue | undefined
    try {
      value = message.data === undefined ? undefined : JSON.parse(message.data) as JSONValue
    } catch {
      sendInvalid(socket, message, 'data is not valid JSON')
      return
    }
    if (!isPatch && (typeof value !== 'object' || value === null)) {
      sendInvalid(socket, message, 'record data must be an object or an array')
      return
    }
    const write: QueuedWrite = { socket, message, value, isPatch, upsert, permitted: null, refused: null, delivered: null }
    try {
      if (upsert && this.store.isHotPath(name)) {
        await this.hotPathWrite(socket, message, name, value, isPatch)
        return
      }
      // Queued at once, before any await, so that a read this client sends next waits for it.
      await this.queues.batch(name, 'write', write, (writes) => this.store.exclusively(name, () => this.applyWrites(name, writes)))
      if (write.refused !== null) throw write.refused
      if (write.permitted !== false) await this.acknowledge(socket, message, name, write.delivered)
    } catch (error) {
      if (write.permitted === false) return // denied, and told so; the batch's failure is not its own
      if (error instanceof WriteRefused) socket.send(error.reply)
      else this.sendStoreError(socket, message, name, error, RECORD_ACTION.RECORD_UPDATE_ERROR)
    }
  }

  /**
   * WRITE_ACKNOWLEDGEMENT to a writer that asked for one, once the write is
   * durable (outside the record's queue, so later writes need not wait for
   * the flush) and its update has been written to the record's other
   * subscribers (`delivered`: as deepstream, which sends the update before
   * the ack); success is silent otherwise.
   */
  private async acknowledge (socket: Socket, message: Message, name: string, delivered: Promise<void> | null): Promise<void> {
    if (message.isWriteAck !== true) return
    await this.store.durable(name)
    if (delivered !== null) await delivered
    socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.WRITE_ACKNOWLEDGEMENT, name, correlationId: message.correlationId, isWriteAck: true })
  }

  /**
   * Decides the writes in order, each against the record as the ones before it left it, and
   * stores the result if the record has not changed meanwhile: one conditional write for all.
   * Another thread may win between the read and the write; the writes are then decided again
   * against its result, so an explicit version that is now taken gets VERSION_EXISTS. A failed
   * store call fails every write of the batch.
   *
   * Whole-record writes need the record's version, and its data only to send back with a refusal:
   * with a cache that decides versions, they are first decided against the version this worker
   * last wrote (KnownVersions), without a read. A refusal, or a conditional write that fails
   * because the guess was stale, decides them again against a fresh read.
   */
  private async applyWrites (name: string, writes: QueuedWrite[]): Promise<void> {
    const wholeRecords = writes.every((write) => !write.isPatch)
    // setData of a whole record (version -1, no path) is decided by the version alone.
    const versionOnly = wholeRecords && writes.every((write) => (write.message.version ?? -1) === -1)
    for (let attempt = 1; ; attempt++) {
      const guess = attempt === 1 && wholeRecords && this.store.cacheDecidesVersions ? this.known.get(name) : undefined
      const current = guess !== undefined
        ? { version: guess, data: null }
        : versionOnly ? await this.currentVersion(name) : await this.store.load(name)
      let state = current
      const updates: Array<{ update: Message, write: QueuedWrite }> = []
      for (const write of writes) {
        write.refused = null
        // Checked once per write, however often the batch is decided again.
        if (write.upsert && write.permitted === null) {
          const verdict = this.authorizeUpsert(write.socket, write.message, name, write.isPatch)
          write.permitted = typeof verdict === 'boolean' ? verdict : await verdict
        }
        if (write.permitted === false) continue
        try {
          const decided = this.decideWrite(write.message, name, state, write.value, write.isPatch, write.upsert)
          state = { version: decided.version, data: decided.data }
          updates.push({ update: decided.update, write })
        } catch (error) {
          if (!(error instanceof WriteRefused)) throw error
          write.refused = error
        }
      }
      if (guess !== undefined && writes.some((write) => write.refused !== null)) continue
      if (state === current || state === null) return // every write was refused
      if (await this.store.writeIfVersion(name, current?.version ?? -1, state.version, state.data)) {
        this.known.set(name, state.version)
        for (const { update, write } of updates) {
          this.subscriptions.publish(name, update, write.socket)
          // Asked now, so that the wait overlaps the flush the ack waits for anyway.
          if (write.message.isWriteAck === true) write.delivered = this.whenDelivered(name, write.socket)
        }
        return
      }
      this.known.forget(name)
      if (attempt === MAX_WRITE_ATTEMPTS) {
        throw new RecordStoreError(RECORD_ACTION.RECORD_UPDATE_ERROR, `lost ${attempt} races in a row to other writers`)
      }
    }
  }

  /** The record's version, with its data left out (null), or null when it does not exist. */
  private async currentVersion (name: string): Promise<StoredRecord | null> {
    const version = await this.store.head(name)
    return version === -1 ? null : { version, data: null }
  }

  /**
   * An upsert's permission: create, then update or patch, whether or not the record exists (as
   * deepstream 7 checks them). A denial is sent to the writer.
   */
  private authorizeUpsert (socket: Socket, message: Message, name: string, isPatch: boolean): boolean | Promise<boolean> {
    const then = (created: boolean): boolean | Promise<boolean> =>
      created && this.authorize(socket, message, isPatch ? RECORD_ACTION.PATCH : RECORD_ACTION.UPDATE, name)
    const create = this.authorize(socket, message, RECORD_ACTION.CREATE, name)
    return typeof create === 'boolean' ? then(create) : create.then(then)
  }

  /** The version, data and broadcast of a write against `current`; throws WriteRefused for the client's errors. */
  private decideWrite (message: Message, name: string, current: StoredRecord | null, value: JSONValue | undefined, isPatch: boolean, upsert: boolean): { version: number, data: JSONValue, update: Message } {
    const refuse = (action: number, extra: Partial<Message> = {}): never => {
      throw new WriteRefused({
        topic: TOPIC.RECORD, action, originalAction: message.action, name, isError: true,
        isWriteAck: message.isWriteAck, correlationId: message.correlationId, ...extra,
      })
    }
    if (current === null && !upsert) refuse(RECORD_ACTION.RECORD_UPDATE_ERROR, { data: JSON.stringify('record does not exist') })
    const currentVersion = current?.version ?? 0
    const requested = message.version ?? -1
    // version -1 means "the next version": upserts never conflict (deepstream 7's setData could).
    const version = requested === -1 ? currentVersion + 1 : requested
    if (current !== null && requested !== -1 && version <= currentVersion) {
      refuse(RECORD_ACTION.VERSION_EXISTS, { version: currentVersion, data: JSON.stringify(current.data), isError: undefined })
    }
    // As deepstream: the write echoed back with the current version, and without isError.
    if (requested !== -1 && version > currentVersion + 1) refuse(RECORD_ACTION.INVALID_VERSION, { version: currentVersion, data: message.data, path: message.path, isError: undefined })
    let data: JSONValue
    if (isPatch) {
      if (message.path === undefined) refuse(RECORD_ACTION.INVALID_MESSAGE_DATA, { data: JSON.stringify('a patch needs a path') })
      try {
        data = setPath(structuredClone(current?.data ?? {}), message.path as string, message.action === RECORD_ACTION.ERASE ? undefined : value)
      } catch (error) {
        if (!(error instanceof InvalidPathError)) throw error
        return refuse(RECORD_ACTION.RECORD_UPDATE_ERROR, { data: JSON.stringify(error.message) })
      }
    } else {
      data = value as JSONValue
    }
    // deepstream sends isWriteAck: false on the wire with every forwarded write; so does riptide.
    const update: Message = isPatch
      ? { topic: TOPIC.RECORD, action: RECORD_ACTION.PATCH, name, version, path: message.path, data: message.action === RECORD_ACTION.ERASE ? undefined : message.data, isWriteAck: false }
      : { topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name, version, data: message.data, isWriteAck: false }
    return { version, data, update }
  }

  /**
   * storageHotPathPrefixes: setData writes straight through at version 0, no transition. A patch is
   * refused as deepstream refuses it; the ack keeps isWriteAck, which the stock client waits for.
   */
  private async hotPathWrite (socket: Socket, message: Message, name: string, value: JSONValue | undefined, isPatch: boolean): Promise<void> {
    if (isPatch) {
      socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.INVALID_PATCH_ON_HOTPATH, originalAction: message.action, name, correlationId: message.correlationId })
      return
    }
    // In the record's queue at once, so that a read this client sends next waits for it.
    let written = false
    await this.queues.run(name, async () => {
      if (!(await this.authorizeUpsert(socket, message, name, false))) return
      this.known.forget(name)
      await this.store.write(name, 0, value as JSONValue)
      written = true
    })
    if (!written) return
    this.subscriptions.publish(name, { topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name, version: 0, data: message.data, isWriteAck: false }, socket)
    await this.acknowledge(socket, message, name, message.isWriteAck === true ? this.whenDelivered(name, socket) : null)
  }

  private whenDelivered (name: string, sender: Socket): Promise<void> | null {
    return this.subscriptions.whenDelivered?.(name, sender) ?? null
  }

  private async delete (socket: Socket, message: Message): Promise<void> {
    const name = message.name ?? ''
    try {
      await this.queues.run(name, () => {
        this.known.forget(name)
        return this.store.delete(name)
      })
      socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE_SUCCESS, name })
      this.subscriptions.publish(name, { topic: TOPIC.RECORD, action: RECORD_ACTION.DELETED, name }, socket)
      this.dropLocalSubscribers(name)
    } catch (error) {
      this.sendStoreError(socket, message, name, error, RECORD_ACTION.RECORD_DELETE_ERROR)
    }
  }

  private dropLocalSubscribers (name: string): void {
    for (const subscriber of [...this.subscriptions.getLocalSubscribers(name)]) this.subscriptions.unsubscribe(name, subscriber)
  }

  private async notify (socket: Socket, message: Message): Promise<void> {
    const names = message.names ?? []
    try {
      for (const name of names) this.known.forget(name)
      await this.store.evict(names)
      for (const name of names) {
        if (this.subscriptions.getLocalSubscribers(name).size === 0) continue
        const record = await this.store.readStorage(name)
        if (record === null) {
          this.subscriptions.publish(name, { topic: TOPIC.RECORD, action: RECORD_ACTION.DELETED, name }, null)
          this.dropLocalSubscribers(name)
        } else {
          await this.store.write(name, record.version, record.data)
          this.subscriptions.publish(name, { topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name, version: record.version, data: JSON.stringify(record.data) }, null)
        }
      }
      socket.send({ ...message, isAck: true })
    } catch (error) {
      socket.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.RECORD_NOTIFY_ERROR, correlationId: message.correlationId, data: JSON.stringify(errorMessage(error)), isError: true })
    }
  }

  private sendStoreError (socket: Socket, message: Message, name: string, error: unknown, fallback: number = RECORD_ACTION.RECORD_LOAD_ERROR): void {
    const action = error instanceof RecordStoreError ? error.action : fallback
    this.services.logger.error('RECORD_ERROR', `record "${name}": ${errorMessage(error)}`)
    socket.send({
      topic: TOPIC.RECORD, action, originalAction: message.action, name, isError: true,
      isWriteAck: message.isWriteAck, correlationId: message.correlationId,
    })
  }

  /** Updates, deletes and notifies that another node applied: fan out here. */
  private fromCluster (message: Message, frames: EncodedFrames | undefined): void {
    const name = message.name
    if (name === undefined) return
    this.subscriptions.sendToLocalSubscribers(name, message, null, frames)
    if (message.action === RECORD_ACTION.DELETED) this.dropLocalSubscribers(name)
  }

  onSocketClosed (socket: Socket): void {
    this.subscriptions.removeSocket(socket)
    this.listeners.onSocketClosed(socket)
  }

  async close (): Promise<void> {
    this.listeners.close()
    await this.queues.idle()
  }
}

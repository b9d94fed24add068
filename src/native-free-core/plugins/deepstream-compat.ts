/**
 * deepstream 7's own plugins, loaded unchanged. Their cache, storage, permission and lock methods
 * take a callback where riptide's return promises (`get(name, (error, version, data) => …)`), and
 * their cluster nodes route by topic. A plugin is taken to be of deepstream's kind by the number of
 * parameters its method declares, and is then wrapped into riptide's interface. A wrapped cache
 * gets no `setIfVersion`, so riptide decides its versions under a lock per record
 * (RecordStore.exclusively).
 */
import type { Cache, StoredRecord } from './cache/cache.js'
import type { Permission, PermissionRequest } from './permission/permission.js'
import type { LockRegistry } from './locks/locks.js'
import type { Plugin } from './plugin.js'
import type { JSONValue, Message } from '../protocol/message.js'
import type { ClusterMessageHandler, ClusterNode } from './cluster-node/cluster-node.js'

type Callback = (error: unknown, ...results: unknown[]) => void
type CallbackMethod = (...args: unknown[]) => unknown

/** A deepstream plugin's lifecycle, which every adapter passes on unchanged. */
interface Lifecycle {
  readonly description?: string
  init?(): unknown
  whenReady?(): Promise<void>
  close?(): Promise<void>
}

/** The shape of a deepstream 7 cache or storage connector (`@deepstream/types`' StoragePlugin). */
interface CallbackStore extends Lifecycle {
  get: CallbackMethod
  set: CallbackMethod
  delete: CallbackMethod
  deleteBulk?: CallbackMethod
  headBulk?: CallbackMethod
}

/** What every adapter shares: the wrapped plugin's description and lifecycle. */
abstract class Adapter<T extends Lifecycle> implements Plugin {
  readonly description: string
  constructor (protected readonly inner: T, fallback: string) {
    this.description = `${inner.description ?? fallback} (deepstream callback API)`
  }

  async init (): Promise<void> { await this.inner.init?.() }
  async whenReady (): Promise<void> { await this.inner.whenReady?.() }
  async close (): Promise<void> { await this.inner.close?.() }
}

/** Whether `method` of the instance declares `arity` parameters or more: deepstream's form, with a callback. */
function takesCallback (instance: unknown, method: string, arity: number): boolean {
  const fn = (instance as Record<string, unknown>)[method]
  return typeof fn === 'function' && fn.length >= arity
}

function asError (error: unknown): Error {
  return error instanceof Error ? error : new Error(typeof error === 'string' ? error : JSON.stringify(error))
}

/** Calls `method` with a callback appended and resolves with the callback's results. */
function call (store: CallbackStore, method: CallbackMethod, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const done: Callback = (error, ...results) => {
      if (error !== null && error !== undefined) reject(asError(error))
      else resolve(results)
    }
    try {
      method.call(store, ...args, done)
    } catch (error) {
      reject(asError(error))
    }
  })
}

/** riptide's Cache (and Storage) over a deepstream callback-style connector. */
export class CallbackStoreAdapter extends Adapter<CallbackStore> implements Cache {
  /**
   * `kind`: deepstream calls deleteBulk on caches only, and its storage connectors leave it
   * unimplemented (PostgreSQL's throws), so a storage's bulk delete is one delete per name.
   */
  constructor (store: CallbackStore, private readonly kind: 'cache' | 'storage') {
    super(store, `deepstream ${kind} plugin`)
  }

  async get (name: string): Promise<StoredRecord | null> {
    const [version, data] = await call(this.inner, this.inner.get, name)
    return typeof version !== 'number' || version === -1 || data === null || data === undefined ? null : { version, data: data as JSONValue }
  }

  async set (name: string, version: number, data: JSONValue): Promise<void> {
    await call(this.inner, this.inner.set, name, version, data)
  }

  /**
   * Deleting a missing name succeeds, as riptide's Storage promises. Some connectors fail on it
   * (PostgreSQL's, once the record's table is gone); the delete then counts as done if a read
   * finds nothing under the name.
   */
  async delete (name: string): Promise<void> {
    try {
      await call(this.inner, this.inner.delete, name)
    } catch (error) {
      if (await this.get(name).catch(() => undefined) !== null) throw error
    }
  }

  async deleteBulk (names: string[]): Promise<void> {
    if (names.length === 0) return
    if (this.kind === 'cache' && this.inner.deleteBulk !== undefined) await call(this.inner, this.inner.deleteBulk, names)
    else for (const name of names) await this.delete(name) // one at a time: PostgreSQL's drops a table its delete empties
  }

  async head (name: string): Promise<number> {
    const { versions } = await this.headBulk([name])
    return versions[name] ?? -1
  }

  async headBulk (names: string[]): Promise<{ versions: Record<string, number>, missing: string[] }> {
    if (this.inner.headBulk !== undefined) {
      const [versions, missing] = await call(this.inner, this.inner.headBulk, names)
      return { versions: (versions ?? {}) as Record<string, number>, missing: (missing ?? []) as string[] }
    }
    const versions: Record<string, number> = {}
    const missing: string[] = []
    for (const name of names) {
      const record = await this.get(name)
      if (record === null) missing.push(name)
      else versions[name] = record.version
    }
    return { versions, missing }
  }
}

/**
 * deepstream's permission plugins answer `canPerformAction(socketWrapper, message, callback, passItOn)`
 * through `callback(socketWrapper, message, passItOn, error, allowed)`. The socket wrapper they see
 * carries the user as deepstream's does (`userId`, `serverData`, `clientData`).
 */
interface CallbackPermission extends Lifecycle {
  canPerformAction (socketWrapper: unknown, message: unknown, callback: (...args: unknown[]) => void, passItOn: unknown): void
}

export class CallbackPermissionAdapter extends Adapter<CallbackPermission> implements Permission {
  constructor (permission: CallbackPermission) {
    super(permission, 'deepstream permission plugin')
  }

  canPerformAction ({ user, message, action, name }: PermissionRequest): Promise<boolean> {
    const socketWrapper = { userId: user.id, serverData: user.serverData, clientData: user.clientData, user }
    return new Promise((resolve, reject) => {
      this.inner.canPerformAction(socketWrapper, { ...message, action, name }, (_socket, _message, _passItOn, error, allowed) => {
        if (error !== null && error !== undefined) reject(asError(error))
        else resolve(allowed === true)
      }, null)
    })
  }
}

/** deepstream's lock registries answer `get(name, callback(acquired))`. */
interface CallbackLocks extends Lifecycle {
  get (name: string, callback: (acquired: boolean) => void): void
  release (name: string): void
}

export class CallbackLocksAdapter extends Adapter<CallbackLocks> implements LockRegistry {
  constructor (locks: CallbackLocks) {
    super(locks, 'deepstream lock registry')
  }

  get (name: string): Promise<boolean> { return new Promise((resolve) => this.inner.get(name, (acquired) => resolve(acquired === true))) }
  release (name: string): void { this.inner.release(name) }
}

/**
 * deepstream's cluster nodes route by `message.topic` (`send(message)`, `sendDirect(server, message)`,
 * `subscribe(topic, callback(message, fromServer))`) and serialise messages as JSON; riptide's
 * route by channel. Each riptide message travels as `{ topic: <channel>, payload }`, bytes as base64.
 */
interface DeepstreamClusterNode extends Lifecycle {
  send (message: { topic: string, payload: unknown }): void
  sendDirect (serverName: string, message: { topic: string, payload: unknown }): void
  subscribe (topic: string, callback: (message: { payload: unknown }, fromServer: string) => void): void
}

type Carried = Omit<Message, 'data'> & { data?: string, bytes?: string }

function carry (message: Message): Carried {
  return typeof message.data === 'string' || message.data === undefined
    ? message as Carried
    : { ...message, data: undefined, bytes: Buffer.from(message.data).toString('base64') }
}

function uncarry (carried: Carried): Message {
  if (carried.bytes === undefined) return carried as Message
  const { bytes, ...rest } = carried
  return { ...rest, data: new Uint8Array(Buffer.from(bytes, 'base64')) }
}

export class DeepstreamClusterNodeAdapter extends Adapter<DeepstreamClusterNode> implements ClusterNode {
  constructor (node: DeepstreamClusterNode, readonly serverName: string) {
    super(node, 'deepstream cluster node')
  }

  send (channel: string, message: Message): void { this.inner.send({ topic: channel, payload: carry(message) }) }
  sendDirect (serverName: string, channel: string, message: Message): void { this.inner.sendDirect(serverName, { topic: channel, payload: carry(message) }) }
  sendTo (serverNames: readonly string[], channel: string, message: Message): void {
    const payload = carry(message)
    for (const serverName of serverNames) this.inner.sendDirect(serverName, { topic: channel, payload })
  }

  subscribe (channel: string, handler: ClusterMessageHandler): void {
    this.inner.subscribe(channel, (message, fromServer) => handler(uncarry(message.payload as Carried), fromServer, 0))
  }
}

/** The plugin as riptide's interface of its kind: wrapped when it takes deepstream's callbacks, as it is otherwise. */
export function adaptDeepstreamPlugin (kind: string, instance: Plugin, serverName = ''): Plugin {
  if ((kind === 'cache' || kind === 'storage') && takesCallback(instance, 'get', 2)) return new CallbackStoreAdapter(instance as unknown as CallbackStore, kind)
  if (kind === 'permission' && takesCallback(instance, 'canPerformAction', 3)) return new CallbackPermissionAdapter(instance as unknown as CallbackPermission)
  if (kind === 'locks' && takesCallback(instance, 'get', 2)) return new CallbackLocksAdapter(instance as unknown as CallbackLocks)
  // deepstream's send(message) takes one parameter where riptide's send(channel, message) takes two.
  if (kind === 'clusterNode' && !takesCallback(instance, 'send', 2)) return new DeepstreamClusterNodeAdapter(instance as unknown as DeepstreamClusterNode, serverName)
  return instance
}

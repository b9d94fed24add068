/**
 * The main thread of a multi-worker server. It serves nothing itself: it
 * creates the shared memory, starts one long-lived serve task per worker (on
 * a Piscina pool, or on plain worker threads with `workerRunner: threads`),
 * replaces a worker that dies (after removing the dead
 * worker's subscriptions, presence, providers and locks from the shared
 * registries and telling the others), and stops them all on close.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { availableParallelism, tmpdir } from 'node:os'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { LoadedConfig } from '../native-free-core/config/loader.js'
import type { PluginRef } from '../native-free-core/config/schema.js'
import type { Logger } from '../native-free-core/plugins/logger/logger.js'
import type { Message } from '../native-free-core/protocol/message.js'
import { ConfigError, RiptideError, errorMessage, wireError } from '../native-free-core/errors.js'
import { createSharedMemory, ownerOf, SUPERVISOR_OWNER, type SharedMemory } from '../native-free-core/cluster/in-process/shared-memory.js'
import { SharedNameTable } from '../native-free-core/cluster/in-process/name-table.js'
import { Ring } from '../native-free-core/cluster/in-process/ring.js'
import { MAX_WORKERS, WORKER_STATE, WorkerTable } from '../native-free-core/cluster/in-process/worker-table.js'
import { encodeEnvelope, SUPERVISOR } from '../native-free-core/cluster/envelope-codec.js'
import { splitStateKey, stateNotice, STATE_CHANNEL } from '../native-free-core/cluster/in-process/shared-state-registry.js'
import { CLUSTER_CHANNEL } from '../native-free-core/cluster/in-process/worker-cluster-registry.js'
import { controlMessage } from '../native-free-core/cluster/control.js'
import { workerName } from '../native-free-core/cluster/in-process/worker-cluster-node.js'
import { chooseHttpServer } from '../native-adapters/native-server.js'
import { nodeHasReusePort } from '../native-adapters/http/node-server.js'
import { resolveServerName } from '../native-free-core/builtins.js'
import { compiledModule } from '../native-adapters/compiled-module.js'
import type { ServeResult, ServeTask, SupervisorOrder, WorkerReport } from '../workers/serve.js'

export interface SupervisorOptions {
  /** `auto` (available cores) or a count, 1 to 32. */
  workers: number | 'auto'
  logger: Logger
  /** Test hook: each worker also listens on a port of its own (see `ownPorts`). */
  ownPorts?: boolean
  /** Bytes of each worker's inbound ring (default 4 MiB). */
  ringBytes?: number
}

interface Slot {
  control: MessagePort | null
  task: Promise<void> | null
  ownPort: number | null
  failures: number
  /** Resolves when the slot serves again after a death. */
  serving: Promise<void>
}

export function resolveWorkerCount (workers: number | 'auto'): number {
  const count = workers === 'auto' ? Math.min(availableParallelism(), MAX_WORKERS) : workers
  if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) throw new ConfigError(`workers: must be "auto" or 1 to ${MAX_WORKERS}, got ${String(workers)}`)
  return count
}

/** Runs serve tasks on threads of their own. */
interface TaskRunner {
  run (task: ServeTask, transferList: MessagePort[]): Promise<ServeResult>
  destroy (): Promise<void>
}

function piscinaRunner (count: number): TaskRunner {
  // The module is named per task, not as the pool's default: Piscina loads a default module in every
  // thread as the pool starts, and a pool destroyed meanwhile (a worker that failed to start) would end
  // threads in the middle of loading LMDB's native addon, which aborts the process.
  const filename = compiledModule('workers/serve.js').href
  const pool = new Piscina({ minThreads: count, maxThreads: count, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1, atomics: 'disabled' })
  return {
    run: (task, transferList) => pool.run(task, { filename, transferList }) as Promise<ServeResult>,
    destroy: () => pool.destroy(),
  }
}

function threadRunner (): TaskRunner {
  const threads = new Set<Worker>()
  return {
    run: (task, transferList) => new Promise((resolve, reject) => {
      const thread = new Worker(compiledModule('workers/serve-thread.js'))
      threads.add(thread)
      let settled = false
      thread.once('message', (reply: { result: ServeResult | null, error?: { code: string, message: string } }) => {
        settled = true
        if (reply.error !== undefined) reject(RiptideError.fromWire(reply.error))
        else resolve(reply.result ?? undefined)
      })
      thread.once('error', (error) => { settled = true; reject(error) })
      thread.once('exit', (code) => {
        threads.delete(thread)
        if (!settled) reject(new Error(`worker exited with code: ${code}`))
      })
      thread.postMessage(task, transferList)
    }),
    destroy: async () => { await Promise.all([...threads].map((thread) => thread.terminate())) },
  }
}

function isMemory (ref: PluginRef | PluginRef[]): boolean {
  return !Array.isArray(ref) && ref.path === undefined && ref.name === undefined && (ref.type === 'default' || ref.type === 'memory')
}

export class Supervisor {
  private readonly slots: Slot[] = []
  private readonly workers: WorkerTable
  private readonly states: SharedNameTable
  private readonly locks: SharedNameTable
  private readonly rings: Ring[]
  private closing: Promise<void> | null = null
  port = 0
  /** Worker deaths since start (each one replaced). */
  deaths = 0

  private constructor (
    private readonly loaded: LoadedConfig,
    private readonly shared: SharedMemory,
    private readonly pool: TaskRunner,
    private readonly base: string,
    private readonly options: SupervisorOptions,
    private readonly scratchDir: string | null,
  ) {
    this.workers = WorkerTable.attach(shared.workers)
    this.states = SharedNameTable.attach(shared.states, SUPERVISOR_OWNER)
    this.locks = SharedNameTable.attach(shared.locks, SUPERVISOR_OWNER)
    this.rings = shared.rings.map((buffer) => Ring.attach(buffer, SUPERVISOR_OWNER))
  }

  /** Starts every worker; on failure stops what started and throws the first worker's error. */
  static async start (input: LoadedConfig, options: SupervisorOptions): Promise<Supervisor> {
    const config = structuredClone(input.config)
    // Decided once here, so that every worker serves on the same kind and the reason is said once.
    const { kind, fallback } = chooseHttpServer(config.httpServer.type)
    let count = resolveWorkerCount(options.workers)
    if (count > 1 && kind === 'node' && !nodeHasReusePort()) {
      const why = `${fallback ?? `httpServer.type is "${config.httpServer.type}"`}, and Node ${process.versions.node} cannot share a port between workers with Node http (reusePort needs Node 22.12 or later)`
      if (options.workers !== 'auto') throw new ConfigError(`workers: ${why}; use workers: 1 or "auto", or uWebSockets.js on Node 20`)
      options.logger.warn('ONE_WORKER', `${why}: serving from one worker`)
      count = 1
    }
    if (fallback !== null) options.logger.warn('UWS_UNAVAILABLE', `${fallback}: serving on Node http + ws on ${count === 1 ? 'one worker' : `all ${count} workers (reusePort)`}, slower than uWS (see the README)`)
    config.httpServer.type = kind
    // A memory cache or storage per thread would disagree between workers: give them one
    // throw-away LMDB file instead, removed at close. Same lifetime, one truth.
    let scratchDir: string | null = null
    if (count > 1 && (isMemory(config.cache) || (!Array.isArray(config.storage) && config.storage.type === 'memory'))) {
      scratchDir = mkdtempSync(join(tmpdir(), 'riptide-memory-'))
      if (isMemory(config.cache)) config.cache = { type: 'lmdb', options: { path: join(scratchDir, 'cache'), sync: false } }
      if (!Array.isArray(config.storage) && config.storage.type === 'memory') config.storage = { type: 'lmdb', options: { path: join(scratchDir, 'storage'), sync: false } }
    }
    const host = config.httpServer.options.host
    const loaded: LoadedConfig = { ...input, config }
    const pool: TaskRunner = config.workerRunner === 'threads' ? threadRunner() : piscinaRunner(count)
    const supervisor = new Supervisor(loaded, createSharedMemory(count, options.ringBytes ?? 4 << 20), pool, resolveServerName(config.serverName), options, scratchDir)
    try {
      // The first worker alone, so a bad config fails once, with its own error.
      supervisor.port = await supervisor.startWorker(0)
      // Port 0: the OS gave worker 0 a port nobody else holds, and the others (and restarts) join it.
      // A port picked and released beforehand could be taken meanwhile by another server, which
      // SO_REUSEPORT would then let share it, each answering part of the connections.
      config.httpServer.options.port = supervisor.port
      // Every start settles before a failure closes the rest: no thread is ended while it loads.
      const started = await Promise.allSettled(Array.from({ length: count - 1 }, (_, i) => supervisor.startWorker(i + 1)))
      const failed = started.find((result) => result.status === 'rejected')
      if (failed !== undefined) throw failed.reason
    } catch (error) {
      await supervisor.close()
      throw error
    }
    options.logger.info('SERVER_READY', `riptide ${supervisor.base} ready: ${count} worker${count === 1 ? '' : 's'} listening on ${host}:${supervisor.port}`)
    return supervisor
  }

  get count (): number { return this.workers.count }

  /** Each worker's own port, when started with `ownPorts`. */
  get ownPorts (): number[] { return this.slots.map((slot) => slot.ownPort ?? 0) }

  /** Open WebSocket connections on worker `index`, as it reports them. */
  connections (index: number): number { return this.workers.connections(index) }

  /** Starts (or restarts) slot `index`; resolves the port it listens on. */
  private startWorker (index: number): Promise<number> {
    const slot = this.slots[index] ?? (this.slots[index] = { control: null, task: null, ownPort: null, failures: 0, serving: Promise.resolve() })
    this.workers.setState(index, WORKER_STATE.STARTING)
    const { port1, port2 } = new MessageChannel()
    slot.control = port1
    const task: ServeTask = { index, base: this.base, loaded: this.loaded, shared: this.shared, ownPort: this.options.ownPorts === true, control: port2 }
    const listening = new Promise<number>((resolve, reject) => {
      port1.on('message', (report: WorkerReport) => {
        if (report.type === 'listening') {
          slot.ownPort = report.ownPort
          slot.failures = 0
          this.workers.setState(index, WORKER_STATE.SERVING)
          this.notifyAll(CLUSTER_CHANNEL, controlMessage({ kind: 'node-notice', node: workerName(this.base, index), alive: true }), index)
          resolve(report.port)
        }
      })
      slot.task = this.pool.run(task, [port2]).then((result) => {
        if (result !== undefined) throw RiptideError.fromWire(result.failed)
      })
      slot.task.then(() => reject(new RiptideError('RT_WORKER_FAILED', `worker ${index} ended before listening`)), (error: unknown) => {
        reject(error instanceof RiptideError ? error : RiptideError.fromWire(wireError(error)))
      })
    })
    void listening.then(() => slot.task?.then(() => {}, (error: unknown) => this.onWorkerDied(index, error)), () => {})
    return listening
  }

  /** Cleans up after a dead worker, then replaces it (with a growing delay if it keeps dying). */
  private onWorkerDied (index: number, error: unknown): void {
    if (this.closing !== null) return
    this.deaths++
    const slot = this.slots[index]
    slot.control?.close()
    slot.control = null
    this.options.logger.error('WORKER_DIED', `worker ${index} died: ${errorMessage(error)}; replacing it`)
    this.removeDeadWorker(index)
    slot.failures++
    const delay = Math.min(100 * 2 ** (slot.failures - 1), 5000)
    slot.serving = new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.closing !== null) { resolve(); return }
        this.startWorker(index).then(() => resolve(), (failure: unknown) => {
          this.options.logger.error('WORKER_START_FAILED', `worker ${index} could not restart: ${errorMessage(failure)}`)
          resolve()
        })
      }, delay)
      timer.unref()
    })
  }

  /** Removes a dead worker from every shared structure and tells the living about names that are now gone. */
  private removeDeadWorker (index: number): void {
    const owner = ownerOf(index)
    this.workers.setState(index, WORKER_STATE.DEAD)
    this.states.recoverFrom(owner)
    this.locks.recoverFrom(owner)
    for (const ring of this.rings) ring.recoverFrom(owner)
    this.rings[index].reset()
    const bit = 1 << index
    const emptied = this.states.updateAll((mask) => (mask & ~bit) >>> 0)
    this.locks.updateAll((holder) => (holder === owner ? 0 : holder))
    for (const key of emptied) {
      const { registry, name } = splitStateKey(key)
      this.notifyAll(STATE_CHANNEL, stateNotice(registry, name), -1)
    }
    this.notifyAll(CLUSTER_CHANNEL, controlMessage({ kind: 'node-notice', node: workerName(this.base, index), alive: false }), -1)
  }

  /** Writes a notice into every live worker's ring except `except`, retrying while a ring is full. */
  private notifyAll (channel: string, message: Message, except: number): void {
    const bytes = encodeEnvelope(channel, SUPERVISOR, message).slice()
    for (const target of this.workers.alive()) {
      if (target === except) continue
      const ring = this.rings[target]
      if (ring.tryWrite(bytes)) continue
      void (async () => {
        while (this.closing === null && this.workers.isAlive(target) && !ring.tryWrite(bytes)) await ring.waitForSpace(1000)
      })()
    }
  }

  /**
   * Reloads the permission rules on every worker (SIGHUP). Resolves the
   * errors, one per worker that kept its old rules; empty when all reloaded.
   */
  async reloadPermissions (): Promise<string[]> {
    const results = await Promise.all(this.slots.map((slot, index) => new Promise<string | null>((resolve) => {
      const control = slot.control
      if (control === null) { resolve(`worker ${index} is not running`); return }
      const timer = setTimeout(() => { control.off('message', listen); resolve(`worker ${index} did not answer`) }, 5000)
      const listen = (report: WorkerReport): void => {
        if (report.type !== 'reloaded') return
        clearTimeout(timer)
        control.off('message', listen)
        resolve(report.error === null ? null : `worker ${index}: ${report.error}`)
      }
      control.on('message', listen)
      control.postMessage({ type: 'reload-permissions' } satisfies SupervisorOrder)
    })))
    return results.filter((result): result is string => result !== null)
  }

  /** Test hook: makes worker `index` throw from a timer, as a bug would; resolves once it has been replaced and serves again. */
  async crashWorker (index: number): Promise<void> {
    const slot = this.slots[index]
    const died = slot.task?.then(() => {}, () => {})
    slot.control?.postMessage({ type: 'crash' } satisfies SupervisorOrder)
    await died
    // onWorkerDied ran in the same rejection; wait for the replacement.
    await new Promise((resolve) => setImmediate(resolve))
    await slot.serving
  }

  /** Stops every worker (each closes its sockets and plugins), then the pool. Idempotent. */
  close (): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.slots.map(async (slot) => {
        slot.control?.postMessage({ type: 'stop' } satisfies SupervisorOrder)
        await slot.task?.catch(() => {})
        slot.control?.close()
      }))
      await this.pool.destroy()
      if (this.scratchDir !== null) rmSync(this.scratchDir, { recursive: true, force: true })
    })()
    return this.closing
  }
}

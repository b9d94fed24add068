/**
 * The long-lived serve task of one connection worker (a Piscina task, or the
 * one task of a plain thread through serve-thread.ts): it builds a full
 * riptide server in this thread on the shared registries, listens on the
 * shared port (SO_REUSEPORT: the kernel spreads connections), and serves
 * until the supervisor says stop. The task's promise settles only then.
 *
 * A bug that throws out of the event loop must not take the process down:
 * uWS aborts the whole process if a thread ends with its sockets open, so
 * the crash handler closes the listen socket and every connection first,
 * then ends this thread with code 1; the supervisor replaces it.
 */
import type { MessagePort } from 'node:worker_threads'
import type { LoadedConfig } from '../native-free-core/config/loader.js'
import type { SharedMemory } from '../native-free-core/cluster/in-process/shared-memory.js'
import type { RiptideServer } from '../native-free-core/server/server.js'
import { inProcessClusterPlugins } from '../native-free-core/cluster/in-process/in-process-plugins.js'
import { WorkerTable } from '../native-free-core/cluster/in-process/worker-table.js'
import { errorMessage, errorStack, wireError } from '../native-free-core/errors.js'
import { startNativeServer } from '../native-adapters/native-server.js'
import { withRedisCluster } from '../native-adapters/redis/redis-cluster-plugins.js'

export interface ServeTask {
  readonly index: number
  /** The server name all workers share; this worker is `<base>/<index>`. */
  readonly base: string
  readonly loaded: LoadedConfig
  readonly shared: SharedMemory
  /** Test hook: also listen on 127.0.0.1 on a port of this worker's own. */
  readonly ownPort: boolean
  readonly control: MessagePort
}

/** Messages a worker posts on its control port. */
export type WorkerReport =
  | { type: 'listening', port: number, ownPort: number | null }
  | { type: 'crashing', message: string }
  | { type: 'reloaded', error: string | null }
  | { type: 'stopped' }

/** Messages the supervisor posts on a worker's control port. */
export type SupervisorOrder = { type: 'stop' } | { type: 'crash' } | { type: 'reload-permissions' }

/** What the task resolves to: nothing after a normal stop, the error when the server could not start. */
export type ServeResult = { failed: { code: string, message: string } } | undefined

export default async function serve (task: ServeTask): Promise<ServeResult> {
  const { control, index } = task
  const report = (message: WorkerReport): void => control.postMessage(message)
  const workers = WorkerTable.attach(task.shared.workers)
  const config = { ...task.loaded.config, serverName: `${task.base}/${index}` }
  let server: RiptideServer
  try {
    server = await startNativeServer({ ...task.loaded, config }, {
      builtins: withRedisCluster(inProcessClusterPlugins(task.shared, index, task.base), task.shared, index, task.base),
      ownPort: task.ownPort ? { host: '127.0.0.1', port: 0 } : undefined,
      onConnectionCount: (count) => workers.setConnections(index, count),
    })
  } catch (error) {
    // A thrown error loses its code crossing the thread boundary: resolve with it instead.
    control.close()
    return { failed: wireError(error) }
  }

  // Soak hook (bench/soak.ts): under --expose-gc, a full collection every RIPTIDE_FORCE_GC_MS ms.
  const gc = (globalThis as { gc?: () => void }).gc
  const gcEvery = Number(process.env.RIPTIDE_FORCE_GC_MS ?? 0)
  const collector = gc !== undefined && gcEvery > 0 ? setInterval(gc, gcEvery) : null

  let crashing = false
  const crash = (error: unknown): void => {
    if (crashing) return
    crashing = true
    const message = errorStack(error)
    server.services.logger.error('WORKER_CRASH', `worker ${index}: ${message}`)
    report({ type: 'crashing', message })
    // Close the sockets uWS holds before the thread ends, then end it.
    void server.closeSockets().finally(() => process.exit(1))
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)

  report({ type: 'listening', port: server.port, ownPort: server.ownPort })
  await new Promise<void>((resolve) => {
    control.on('message', (order: SupervisorOrder) => {
      if (order.type === 'stop') resolve()
      if (order.type === 'reload-permissions') {
        server.reloadPermissions().then(() => report({ type: 'reloaded', error: null }), (error: unknown) => report({ type: 'reloaded', error: errorMessage(error) }))
      }
      // Test hook for the supervisor's crash test: a bug thrown from a timer.
      if (order.type === 'crash') setTimeout(() => { throw new Error(`worker ${index} crashed on request`) }, 0)
    })
  })
  process.off('uncaughtException', crash)
  process.off('unhandledRejection', crash)
  if (collector !== null) clearInterval(collector)
  await server.close()
  report({ type: 'stopped' })
  control.close()
  return undefined
}

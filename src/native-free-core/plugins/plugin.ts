/**
 * The lifecycle every plugin shares (the deepstream plugin page's shape):
 * the orchestrator calls `init()` if present, then awaits `whenReady()`
 * (bounded by dependencyInitializationTimeout), and `close()` at shutdown,
 * in the reverse order of start.
 */
import type { Logger } from './logger/logger.js'
import type { RiptideConfig } from '../config/schema.js'

export interface Plugin {
  readonly description: string
  /** Optional synchronous or asynchronous start step, called once before whenReady. */
  init?(): void | Promise<void>
  /** Resolves when the plugin can serve; rejection fails start-up with RT_PLUGIN_INIT_FAILED. */
  whenReady(): Promise<void>
  /** Releases every timer, socket and handle the plugin owns. Called once. */
  close(): Promise<void>
}

/** CPU-heavy work run off the event loop (a thread pool in riptide's own server). */
export interface TaskPool {
  pbkdf2 (password: string, salt: string, iterations: number, keyLength: number, digest: string): Promise<Buffer>
  close (): Promise<void>
}

/** What every plugin constructor receives beside its own options. */
export interface PluginContext {
  /** Where to run CPU-heavy work; absent when the host gives none. */
  readonly tasks?: TaskPool
  readonly logger: Logger
  readonly serverName: string
  readonly config: Readonly<RiptideConfig>
  /** Directory of the config file, for resolving relative paths in options. */
  readonly configDir: string
}

export type PluginOptions = Record<string, unknown>

/** Base class for plugins that are ready at once and hold nothing to close. */
export abstract class SimplePlugin implements Plugin {
  abstract readonly description: string
  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}
}

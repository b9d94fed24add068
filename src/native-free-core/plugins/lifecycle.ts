import type { Plugin } from './plugin.js'
import type { NamespacedLogger } from './logger/logger.js'
import { RiptideError, errorMessage } from '../errors.js'

/**
 * Starts plugins one at a time in dependency order (init, then whenReady
 * bounded by a timeout) and closes the started ones in reverse.
 */
export class Lifecycle {
  private readonly started: Array<{ name: string, plugin: Plugin }> = []

  constructor (private readonly timeoutMs: number, private readonly logger: NamespacedLogger) {}

  async start<T extends Plugin> (name: string, plugin: T): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new RiptideError('RT_PLUGIN_INIT_TIMEOUT', `${name} (${plugin.description}) was not ready within ${this.timeoutMs} ms`)), this.timeoutMs)
    })
    this.started.push({ name, plugin })
    try {
      await Promise.race([(async () => { await plugin.init?.(); await plugin.whenReady() })(), timeout])
    } catch (error) {
      if (error instanceof RiptideError) throw error
      throw new RiptideError('RT_PLUGIN_INIT_FAILED', `${name} (${plugin.description}) failed to start: ${errorMessage(error)}`, { cause: error })
    } finally {
      clearTimeout(timer)
    }
    this.logger.debug('PLUGIN_READY', `${name}: ${plugin.description}`)
    return plugin
  }

  /** Closes in reverse start order; a failing close is logged and the rest still close. */
  async closeAll (): Promise<void> {
    while (this.started.length > 0) {
      const { name, plugin } = this.started.pop() as { name: string, plugin: Plugin }
      try {
        await plugin.close()
      } catch (error) {
        this.logger.error('PLUGIN_ERROR', `${name} failed to close: ${errorMessage(error)}`)
      }
    }
  }
}

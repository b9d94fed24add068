/**
 * CPU work that must not hold up a connection worker's event loop (password
 * hashing), on a small Piscina pool owned by that worker. Threads start on
 * first use and end when idle.
 */
import { Piscina } from 'piscina'
import { compiledModule } from '../compiled-module.js'
import type { TaskPool } from '../../native-free-core/plugins/plugin.js'

export class PiscinaTaskPool implements TaskPool {
  private pool: Piscina | null = null

  constructor (private readonly maxThreads = 1) {}

  async pbkdf2 (password: string, salt: string, iterations: number, keyLength: number, digest: string): Promise<Buffer> {
    this.pool ??= new Piscina({ filename: compiledModule('native-adapters/tasks/pbkdf2-task.js').href, minThreads: 0, maxThreads: this.maxThreads, idleTimeout: 30_000 })
    const key = await this.pool.run({ password, salt, iterations, keyLength, digest }) as Uint8Array
    return Buffer.from(key)
  }

  async close (): Promise<void> {
    await this.pool?.destroy()
    this.pool = null
  }
}

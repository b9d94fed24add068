/**
 * Example logger plugin, written against riptide's public interface only:
 * debug and info lines are kept in a ring buffer in memory and written out
 * only when an error (or fatal) line comes, so a quiet server writes
 * nothing but the context of each failure.
 *
 * config.yml:
 *   logger:
 *     path: ./dist/examples/buffered-logger.js
 *     options: { size: 200, file: /var/log/riptide-errors.log }   # file optional: stdout otherwise
 */
import { appendFileSync } from 'node:fs'
import type { Logger, LogLevel, LogMeta, NamespacedLogger, PluginOptions } from '../src/index.js'

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4, off: 100 }

export default class BufferedLogger implements Logger {
  readonly description = 'buffered logger (writes context on error)'
  private readonly lines: string[] = []
  private readonly size: number
  private readonly file: string | null
  private level: LogLevel = 'debug'

  constructor (options: PluginOptions) {
    this.size = typeof options.size === 'number' ? options.size : 200
    this.file = typeof options.file === 'string' ? options.file : null
  }

  private write (text: string): void {
    if (this.file === null) process.stdout.write(text)
    else appendFileSync(this.file, text)
  }

  private record (level: LogLevel, namespace: string, event: string, message: string | undefined, meta?: LogMeta): void {
    if (!this.shouldLog(level)) return
    const line = JSON.stringify({ time: new Date().toISOString(), level, ns: namespace || undefined, event, message, ...meta })
    this.lines.push(line)
    if (this.lines.length > this.size) this.lines.shift()
    if (ORDER[level] >= ORDER.error) {
      this.write(`${this.lines.join('\n')}\n`)
      this.lines.length = 0
    }
  }

  private scoped (namespace: string): NamespacedLogger {
    return {
      shouldLog: (level) => this.shouldLog(level),
      debug: (event, message, meta) => this.record('debug', namespace, event, message, meta),
      info: (event, message, meta) => this.record('info', namespace, event, message, meta),
      warn: (event, message, meta) => this.record('warn', namespace, event, message, meta),
      error: (event, message, meta) => this.record('error', namespace, event, message, meta),
      fatal: (event, message, meta) => this.record('fatal', namespace, event, message, meta),
    }
  }

  shouldLog (level: LogLevel): boolean { return this.level !== 'off' && ORDER[level] >= ORDER[this.level] }
  debug (event: string, message?: string, meta?: LogMeta): void { this.record('debug', '', event, message, meta) }
  info (event: string, message?: string, meta?: LogMeta): void { this.record('info', '', event, message, meta) }
  warn (event: string, message: string, meta?: LogMeta): void { this.record('warn', '', event, message, meta) }
  error (event: string, message: string, meta?: LogMeta): void { this.record('error', '', event, message, meta) }
  fatal (event: string, message: string, meta?: LogMeta): void { this.record('fatal', '', event, message, meta) }
  /** riptide passes deepstream's numbers (0 debug … 4 fatal, 100 off); names work too. */
  setLogLevel (level: number | LogLevel): void {
    this.level = typeof level === 'number' ? ((Object.keys(ORDER) as LogLevel[]).find((name) => ORDER[name] === level) ?? 'info') : level
  }
  getNameSpace (namespace: string): NamespacedLogger { return this.scoped(namespace) }
  async whenReady (): Promise<void> {}
  async close (): Promise<void> { this.lines.length = 0 }
}

import { pino, type Logger as Pino, type DestinationStream } from 'pino'
import { LOG_LEVEL_NUMBERS as ORDER, parseLogLevel, type Logger, type LogLevel, type LogMeta, type NamespacedLogger } from './logger.js'

const PINO_LEVEL: Record<LogLevel, string> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'fatal', off: 'silent' }

interface LevelState { level: LogLevel }

class PinoNamespace implements NamespacedLogger {
  constructor (protected readonly pino: Pino, protected readonly state: LevelState) {}
  shouldLog (level: LogLevel): boolean { return this.state.level !== 'off' && ORDER[level] >= ORDER[this.state.level] }
  debug (event: string, message?: string, meta?: LogMeta): void { this.pino.debug({ event, ...meta }, message ?? event) }
  info (event: string, message?: string, meta?: LogMeta): void { this.pino.info({ event, ...meta }, message ?? event) }
  warn (event: string, message: string, meta?: LogMeta): void { this.pino.warn({ event, ...meta }, message) }
  error (event: string, message: string, meta?: LogMeta): void { this.pino.error({ event, ...meta }, message) }
  fatal (event: string, message: string, meta?: LogMeta): void { this.pino.fatal({ event, ...meta }, message) }
}

/** The default logger: JSON lines on stdout through pino (pino makes disabled levels no-ops). */
export class PinoLogger extends PinoNamespace implements Logger {
  readonly description = 'pino logger on stdout'

  constructor (options: { level?: LogLevel, destination?: DestinationStream } = {}) {
    const state: LevelState = { level: options.level ?? 'info' }
    const settings = { level: PINO_LEVEL[state.level], base: { name: 'riptide' } }
    super(options.destination === undefined ? pino(settings) : pino(settings, options.destination), state)
  }

  async whenReady (): Promise<void> {}

  async close (): Promise<void> { this.pino.flush() }

  setLogLevel (value: number | LogLevel): void {
    const level = parseLogLevel(value) ?? 'info'
    this.state.level = level
    this.pino.level = PINO_LEVEL[level]
  }

  getNameSpace (namespace: string): NamespacedLogger {
    return new PinoNamespace(this.pino.child({ ns: namespace }), this.state)
  }
}

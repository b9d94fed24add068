export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal', 'off'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** deepstream's numeric log levels, which its logger plugins receive in setLogLevel. */
export const LOG_LEVEL_NUMBERS: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4, off: 100 }

/** deepstream's numeric levels (DEBUG=0 … FATAL=4, OFF=100) and names, case-insensitive. */
export function parseLogLevel (value: unknown): LogLevel | null {
  if (typeof value === 'number') return (Object.keys(LOG_LEVEL_NUMBERS) as LogLevel[]).find((level) => LOG_LEVEL_NUMBERS[level] === value) ?? null
  if (typeof value !== 'string') return null
  const lower = value.toLowerCase()
  return (LOG_LEVELS as readonly string[]).includes(lower) ? lower as LogLevel : null
}

export type LogMeta = Record<string, unknown>

/**
 * Logging is by event (a short upper-case tag such as CLIENT_DISCONNECTED)
 * and message. Disabled levels must cost a no-op call.
 */
export interface NamespacedLogger {
  shouldLog (level: LogLevel): boolean
  debug (event: string, message?: string, meta?: LogMeta): void
  info (event: string, message?: string, meta?: LogMeta): void
  warn (event: string, message: string, meta?: LogMeta): void
  error (event: string, message: string, meta?: LogMeta): void
  fatal (event: string, message: string, meta?: LogMeta): void
}

export interface Logger extends NamespacedLogger {
  readonly description: string
  init?(): void | Promise<void>
  whenReady (): Promise<void>
  close (): Promise<void>
  /**
   * The level in deepstream's numbers (0 debug … 4 fatal, 100 off), as deepstream gives its logger
   * plugins: riptide calls it on a custom logger with the config's logLevel. Names are accepted too.
   */
  setLogLevel (level: number | LogLevel): void
  getNameSpace (namespace: string): NamespacedLogger
}

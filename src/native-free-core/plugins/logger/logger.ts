export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal', 'off'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** deepstream's numeric levels (DEBUG=0 … FATAL=4, OFF=100) and names, case-insensitive. */
export function parseLogLevel (value: unknown): LogLevel | null {
  if (typeof value === 'number') return ({ 0: 'debug', 1: 'info', 2: 'warn', 3: 'error', 4: 'fatal', 100: 'off' } as Record<number, LogLevel>)[value] ?? null
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
  setLogLevel (level: LogLevel): void
  getNameSpace (namespace: string): NamespacedLogger
}

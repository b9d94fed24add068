/**
 * The error catalogue. Every error riptide raises has a stable `code`, listed
 * in docs/errors.md (a test keeps the two in step). Errors that cross a thread
 * boundary travel as `{ code, message }` and are rebuilt with `fromWire`.
 */

export const ERROR_CODES = {
  RT_CONFIG_INVALID: 'a config file has a wrong type or value',
  RT_CONFIG_NOT_FOUND: 'the config file, or a file it loads, does not exist',
  RT_PLUGIN_NOT_FOUND: 'a plugin named in the config cannot be loaded',
  RT_PLUGIN_INVALID: 'a plugin module does not export what its kind requires',
  RT_PLUGIN_INIT_FAILED: 'a plugin rejected or threw while starting',
  RT_PLUGIN_INIT_TIMEOUT: 'a plugin did not become ready within dependencyInitializationTimeout',
  RT_UWS_FALLBACK: 'the uWebSockets.js native binary did not load',
  RT_LISTEN_FAILED: 'the server could not listen on the configured host and port',
  RT_PROTOCOL: 'a frame could not be decoded',
  RT_PERMISSION_RULES_INVALID: 'a permission rule cannot be compiled',
  RT_DATA_DIR_INVALID: 'the record data directory is not usable: not a directory, not riptide\'s, unreadable or corrupt',
  RT_SERVER_STATE: 'a part of the server was used before it was started or after it was closed',
  RT_NOT_SUPPORTED: 'a plugin or HTTP server adapter was asked for something it does not do (reloading permission rules, listening on a second port)',
  RT_WORKER_FAILED: 'a connection worker ended before it served, or failed with an error that had no riptide code (the original code, if any, starts the message)',
  RT_SHARED_LOCK_TIMEOUT: 'a lock or table in the memory the workers share stayed taken past its bound: its holder is stuck or died',
  RT_RECORD_STORE: 'a record read or write failed or timed out in the cache or storage (the client gets the matching record error action)',
  RT_RECORD_PATH: 'a record path is refused: a malformed or empty segment, a prototype segment, or an array index too far past the end',
  RT_PERMISSION_RULE_FAILED: 'a permission rule failed while it ran (a property of undefined, more record reads than maxRuleIterations); the request is refused',
  RT_REDIS_UNAVAILABLE: 'a Redis plugin could not reach Redis at start-up (the message says where and why)',
  RT_PLUGIN_API: 'a custom plugin asked the server for something it refused: an invalid argument, or a record read or write that failed',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export class RiptideError extends Error {
  override name = 'RiptideError'
  constructor (readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
  }

  toWire (): { code: ErrorCode, message: string } {
    return { code: this.code, message: this.message }
  }

  /** Rebuilds an error that crossed a thread; a code riptide does not know is kept in the message. */
  static fromWire (wire: { code: string, message: string }): RiptideError {
    if (wire.code in ERROR_CODES) return new RiptideError(wire.code as ErrorCode, wire.message)
    return new RiptideError('RT_WORKER_FAILED', wire.code === '' ? wire.message : `${wire.code}: ${wire.message}`)
  }
}

export class ConfigError extends RiptideError {
  override name = 'ConfigError'
  constructor (message: string, options?: { cause?: unknown }) { super('RT_CONFIG_INVALID', message, options) }
}

export class ProtocolError extends RiptideError {
  override name = 'ProtocolError'
  constructor (message: string) { super('RT_PROTOCOL', message) }
}

/** The fields of an Error, on anything that has them (errors of another realm fail `instanceof`). */
function errorLike (thrown: unknown): { message: string, stack?: unknown } | null {
  return typeof thrown === 'object' && thrown !== null && typeof (thrown as { message?: unknown }).message === 'string' ? thrown as { message: string } : null
}

/** What was thrown, as text: an error's message, or anything else as a string. */
export function errorMessage (thrown: unknown): string {
  return errorLike(thrown)?.message ?? String(thrown)
}

/**
 * What was thrown, as it crosses a thread: a RiptideError's code and message, or any other
 * error's own `code` (as text, '' when it has none) for `fromWire` to keep in the message.
 */
export function wireError (thrown: unknown): { code: string, message: string } {
  if (thrown instanceof RiptideError) return thrown.toWire()
  const code = (thrown as { code?: unknown } | null)?.code
  return { code: code === undefined || code === null ? '' : String(code), message: errorMessage(thrown) }
}

/** What was thrown, with its stack when it has one: for logs of failures nobody expected. */
export function errorStack (thrown: unknown): string {
  const error = errorLike(thrown)
  if (error === null) return String(thrown)
  return typeof error.stack === 'string' ? error.stack : error.message
}

/**
 * The errors the client rejects with. Each has a stable `code`; server
 * answers keep the action name the server sent (for example MESSAGE_DENIED).
 */
export class ClientError extends Error {
  override name = 'ClientError'
  constructor (readonly code: string, message: string, readonly data?: unknown) {
    super(message)
  }
}

/** The login failed: wrong credentials, a refused protocol version, or no answer. */
export class LoginError extends ClientError {
  override name = 'LoginError'
}

/**
 * A versioned write lost to another writer. The record now holds the
 * server's `version` and `data`; write again on top of them if still wanted.
 */
export class VersionConflictError extends ClientError {
  override name = 'VersionConflictError'
  constructor (readonly record: string, readonly version: number, readonly current: unknown) {
    super('VERSION_EXISTS', `record "${record}" is already at version ${version}`, current)
  }
}

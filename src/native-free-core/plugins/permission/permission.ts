import type { Plugin } from '../plugin.js'
import { SimplePlugin, type PluginOptions } from '../plugin.js'
import type { Message } from '../../protocol/message.js'
import type { UserSession } from '../../connection/socket.js'
import type { StoredRecord } from '../cache/cache.js'

export interface PermissionRequest {
  readonly user: UserSession
  readonly topic: number
  /** The action being authorised (CREATE for the create step of an upsert). */
  readonly action: number
  /** The single name this check is about (one per name of a bulk message). */
  readonly name: string
  readonly message: Message
}

/** Reads a record for rules that look at current data (`oldData`). */
export interface RecordReader {
  read (name: string): Promise<StoredRecord | null>
}

/**
 * Decides whether a user may perform an action on a name. Answers
 * synchronously when it can (the hot path), else with a promise.
 * `false` sends MESSAGE_DENIED; a throw or rejection sends MESSAGE_PERMISSION_ERROR.
 */
export interface Permission extends Plugin {
  canPerformAction (request: PermissionRequest): boolean | Promise<boolean>
  /** Called once before start with a reader for record data. */
  setRecordReader?(reader: RecordReader): void
  /**
   * Replaces the rules with those in `options` (the plugin's options as the
   * config file now says), without a restart. Rejects, keeping the rules in
   * force, when the new ones do not load.
   */
  reload?(options: PluginOptions): Promise<void>
}

/** permission type `none`: everything is allowed. */
export class OpenPermission extends SimplePlugin implements Permission {
  readonly description = 'open permissions (none)'
  canPerformAction (): boolean { return true }
}

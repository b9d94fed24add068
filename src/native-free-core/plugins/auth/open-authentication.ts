import type { Authentication, AuthResult } from './authentication.js'
import { SimplePlugin } from '../plugin.js'
import type { JSONObject } from '../../protocol/message.js'

/**
 * auth type `none`: everyone is let in. The user id is `authData.username`
 * when given, else `open` (anonymous, and not counted in presence).
 */
export class OpenAuthentication extends SimplePlugin implements Authentication {
  readonly description = 'open authentication (none)'
  async isValidUser (_handshake: unknown, authData: JSONObject): Promise<AuthResult> {
    const username = authData.username
    return { isValid: true, id: typeof username === 'string' && username !== '' ? username : ANONYMOUS_USER }
  }
}

/** The id deepstream gives users of open auth who send no username. */
export const ANONYMOUS_USER = 'open'

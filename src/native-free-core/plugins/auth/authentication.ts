import type { Plugin } from '../plugin.js'
import type { JSONObject, JSONValue } from '../../protocol/message.js'

/** What the endpoint knows about a connection when it asks to log in. */
export interface HandshakeData {
  remoteAddress: string
  headers: Record<string, string>
  referer: string
}

export interface AuthResult {
  isValid: boolean
  /** The user id; absent means anonymous. */
  id?: string
  /** Sent to the client in AUTH_SUCCESSFUL / AUTH_UNSUCCESSFUL. */
  clientData?: JSONValue
  /** Kept on the server for permission rules (`user.data`). */
  serverData?: JSONValue
  token?: string
}

/**
 * One authentication strategy. Strategies are tried in config order; the
 * first non-null answer decides.
 */
export interface Authentication extends Plugin {
  /** `null` means "not my user": the next strategy is asked. Must not throw for bad credentials. */
  isValidUser (handshake: HandshakeData, authData: JSONObject): Promise<AuthResult | null>
  onClientDisconnect?(userId: string): void
}

/** Asks each strategy in order. All null → denied. */
export class CombinedAuthentication {
  constructor (private readonly strategies: readonly Authentication[]) {}

  async isValidUser (handshake: HandshakeData, authData: JSONObject): Promise<AuthResult> {
    for (const strategy of this.strategies) {
      const result = await strategy.isValidUser(handshake, authData)
      if (result !== null) return result
    }
    return { isValid: false }
  }

  onClientDisconnect (userId: string): void {
    for (const strategy of this.strategies) strategy.onClientDisconnect?.(userId)
  }
}

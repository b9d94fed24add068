/**
 * auth type `token`: a preconfigured list of tokens, each standing for one
 * user with its data (the deepstream plugin page's example). A client logs
 * in with `{ token }`. Tokens are compared in constant time, all of them,
 * so the time taken says nothing about which token came close.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import { z } from 'zod'
import { jsonValueSchema } from '../../protocol/json-schema.js'
import type { Authentication, AuthResult } from './authentication.js'
import type { PluginOptions } from '../plugin.js'
import type { JSONObject } from '../../protocol/message.js'
import { ConfigError } from '../../errors.js'
import { parsePluginOptions } from '../../config/plugin-options.js'

const tokenSchema = z.object({
  id: z.string().min(1),
  serverData: jsonValueSchema.optional(),
  clientData: jsonValueSchema.optional(),
}).strict()

const optionsSchema = z.object({
  tokens: z.record(z.string(), tokenSchema),
  reportInvalidParameters: z.boolean().default(true),
}).strict()

/** SHA-256 of a token: fixed length, so comparisons take the same time whatever the input. */
function digest (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

export class TokenAuthentication implements Authentication {
  readonly description = 'token authentication'
  private readonly tokens: Array<{ digest: Buffer, user: z.infer<typeof tokenSchema> }>
  private readonly reportInvalid: boolean

  constructor (options: PluginOptions) {
    const parsed = parsePluginOptions(optionsSchema, options, 'auth token options')
    for (const token of Object.keys(parsed.tokens)) {
      if (token.length < 16) throw new ConfigError(`auth token options.tokens.${token}: a token must be at least 16 characters`)
    }
    this.tokens = Object.entries(parsed.tokens).map(([token, user]) => ({ digest: digest(token), user }))
    this.reportInvalid = parsed.reportInvalidParameters
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}

  async isValidUser (_handshake: unknown, authData: JSONObject): Promise<AuthResult | null> {
    const { token } = authData
    if (typeof token !== 'string') {
      return this.reportInvalid ? { isValid: false, clientData: { error: 'missing token' } } : null
    }
    const given = digest(token)
    let found: z.infer<typeof tokenSchema> | null = null
    for (const entry of this.tokens) {
      if (timingSafeEqual(entry.digest, given)) found = entry.user
    }
    if (found === null) return this.reportInvalid ? { isValid: false } : null
    return { isValid: true, id: found.id, clientData: found.clientData ?? null, serverData: found.serverData ?? null }
  }
}

/**
 * auth type `http`: asks a webhook. POSTs `{ connectionData, authData }` as
 * JSON to `endpointUrl`; a status in `permittedStatusCodes` logs the user in
 * with the body as user data (a string body is the id; an object gives
 * `id` or `username`, `clientData`, `serverData`). A status in
 * `retryStatusCodes`, a network error or a timeout is retried up to
 * `retryAttempts` times, `retryInterval` apart; anything else refuses, and
 * the body goes back to the client (a string as `{ error }`). Keys of
 * authData listed in `promoteToHeader` are also sent as request headers.
 */
import { z } from 'zod'
import type { Authentication, AuthResult, HandshakeData } from './authentication.js'
import type { PluginOptions } from '../plugin.js'
import type { JSONObject, JSONValue } from '../../protocol/message.js'
import type { Logger } from '../logger/logger.js'
import { parsePluginOptions } from '../../config/plugin-options.js'
import { errorMessage } from '../../errors.js'

const optionsSchema = z.object({
  endpointUrl: z.url({ protocol: /^https?$/ }),
  permittedStatusCodes: z.array(z.number().int()).default([200]),
  retryStatusCodes: z.array(z.number().int()).default([404, 504]),
  retryAttempts: z.number().int().min(0).default(3),
  retryInterval: z.number().int().min(0).default(10),
  requestTimeout: z.number().int().positive().default(2000),
  promoteToHeader: z.array(z.string()).default([]),
  reportInvalidParameters: z.boolean().default(true),
}).strict()

type Options = z.infer<typeof optionsSchema>

export class HttpAuthentication implements Authentication {
  readonly description: string
  private readonly options: Options

  constructor (options: PluginOptions, private readonly logger: Logger) {
    this.options = parsePluginOptions(optionsSchema, options, 'auth http options')
    this.description = `http authentication (${new URL(this.options.endpointUrl).origin})`
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}

  async isValidUser (handshake: HandshakeData, authData: JSONObject): Promise<AuthResult | null> {
    const { endpointUrl, permittedStatusCodes, retryStatusCodes, retryAttempts, retryInterval, requestTimeout, promoteToHeader } = this.options
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    for (const key of promoteToHeader) {
      const value = authData[key]
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') headers[key] = String(value)
    }
    const body = JSON.stringify({ connectionData: handshake, authData })
    for (let attempt = 0; ; attempt++) {
      let status: number
      let text: string
      try {
        const response = await fetch(endpointUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(requestTimeout) })
        status = response.status
        text = await response.text()
      } catch (error) {
        if (attempt < retryAttempts) { await sleep(retryInterval); continue }
        this.logger.error('AUTH_ERROR', `http authentication: ${endpointUrl} failed after ${attempt + 1} attempts: ${errorMessage(error)}`)
        return { isValid: false, clientData: { error: 'authentication service unavailable' } }
      }
      if (retryStatusCodes.includes(status) && attempt < retryAttempts) { await sleep(retryInterval); continue }
      const data = parseBody(text)
      if (permittedStatusCodes.includes(status)) return accepted(data)
      if (!this.options.reportInvalidParameters) return null
      return { isValid: false, clientData: typeof data === 'string' ? { error: data } : data }
    }
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function parseBody (text: string): JSONValue {
  if (text === '') return null
  try {
    return JSON.parse(text) as JSONValue
  } catch {
    return text
  }
}

function accepted (data: JSONValue): AuthResult {
  if (typeof data === 'string') return { isValid: true, id: data }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { isValid: true }
  const id = typeof data.id === 'string' ? data.id : typeof data.username === 'string' ? data.username : undefined
  return { isValid: true, id, clientData: data.clientData ?? null, serverData: data.serverData ?? null }
}

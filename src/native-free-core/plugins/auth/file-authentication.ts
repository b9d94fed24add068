import { pbkdf2, timingSafeEqual, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { jsonValueSchema } from '../../protocol/json-schema.js'
import type { Authentication, AuthResult } from './authentication.js'
import type { PluginContext, PluginOptions } from '../plugin.js'
import type { JSONObject } from '../../protocol/message.js'
import { ConfigError } from '../../errors.js'

const pbkdf2Async = promisify(pbkdf2)


const userSchema = z.object({
  password: z.string(),
  serverData: jsonValueSchema.optional(),
  clientData: jsonValueSchema.optional(),
})

const optionsSchema = z.object({
  users: z.record(z.string(), userSchema).optional(),
  path: z.string().optional(),
  hash: z.union([z.string(), z.literal(false)]).optional(),
  iterations: z.number().int().positive().default(100),
  keyLength: z.number().int().positive().default(32),
  reportInvalidParameters: z.boolean().default(true),
})

export type FileAuthOptions = z.infer<typeof optionsSchema>

/**
 * Makes a stored password in deepstream's format:
 * base64(pbkdf2(password, salt)) followed by the salt (base64 of 16 bytes).
 */
export async function hashPassword (password: string, settings: { hash: string, iterations: number, keyLength: number }): Promise<string> {
  const salt = randomBytes(16).toString('base64')
  const key = await pbkdf2Async(password, salt, settings.iterations, settings.keyLength, settings.hash)
  return key.toString('base64') + salt
}

/**
 * auth type `file`: users from a map (usually `fileLoad(users.yml)`) or a
 * YAML/JSON file at `path`. Passwords are plain text when `hash` is absent
 * or false, else deepstream's pbkdf2 format.
 */
export class FileAuthentication implements Authentication {
  readonly description: string
  private users: Record<string, z.infer<typeof userSchema>> = {}
  private readonly options: FileAuthOptions
  private readonly ready: Promise<void>

  constructor (options: PluginOptions, private readonly context: PluginContext) {
    const parsed = optionsSchema.safeParse(options)
    if (!parsed.success) throw new ConfigError(`auth file options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    this.options = parsed.data
    this.description = `file authentication${this.options.hash ? ` (${this.options.hash})` : ' (plain text)'}`
    this.ready = this.loadUsers()
  }

  private async loadUsers (): Promise<void> {
    if (this.options.users !== undefined) {
      this.users = this.options.users
      return
    }
    if (this.options.path === undefined) throw new ConfigError('auth file needs options.users or options.path')
    const file = resolve(this.context.configDir, this.options.path)
    const parsed = z.record(z.string(), userSchema).safeParse(parseYaml(await readFile(file, 'utf8')))
    if (!parsed.success) throw new ConfigError(`users file ${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
    this.users = parsed.data
  }

  whenReady (): Promise<void> { return this.ready }

  async close (): Promise<void> {}

  async isValidUser (_handshake: unknown, authData: JSONObject): Promise<AuthResult | null> {
    const { username, password } = authData
    if (typeof username !== 'string' || typeof password !== 'string') {
      if (!this.options.reportInvalidParameters) return null
      // deepstream's text, word for word: apps show it to users.
      return { isValid: false, clientData: { error: 'missing authentication parameter: username or/and password' } }
    }
    const user = Object.hasOwn(this.users, username) ? this.users[username] : undefined
    if (user === undefined) return null // an unknown user is left to the next auth handler, as in deepstream
    if (!(await this.matches(password, user.password))) {
      return this.options.reportInvalidParameters ? { isValid: false } : null
    }
    return {
      isValid: true,
      id: username,
      clientData: user.clientData ?? null,
      serverData: user.serverData ?? null,
    }
  }

  private async matches (password: string, stored: string): Promise<boolean> {
    const { hash, iterations, keyLength } = this.options
    if (hash === undefined || hash === false) return safeEqual(password, stored)
    const hashLength = 4 * Math.ceil(keyLength / 3)
    const expected = stored.slice(0, hashLength)
    const salt = stored.slice(hashLength)
    // On the host's task pool when there is one: hashing must not hold up sockets.
    const key = this.context.tasks !== undefined
      ? await this.context.tasks.pbkdf2(password, salt, iterations, keyLength, hash)
      : await pbkdf2Async(password, salt, iterations, keyLength, hash)
    return safeEqual(key.toString('base64'), expected)
  }
}

function safeEqual (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

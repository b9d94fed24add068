import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { Permission, PermissionRequest, RecordReader } from '../permission.js'
import type { PluginContext, PluginOptions } from '../../plugin.js'
import { compilePermissions, type CompiledPermissions, type CompiledRule, type RuleScope } from './compiler.js'
import { NeedRecord, RuleRuntimeError } from './expression.js'
import { SECTION_BY_TOPIC, ruleTypeFor, type RuleType, type Section } from '../rule-types.js'
import { RECORD_ACTION, TOPIC } from '../../../protocol/constants.js'
import type { JSONValue } from '../../../protocol/message.js'
import { setPath } from '../../../records/json-path.js'
import { ConfigError, errorMessage } from '../../../errors.js'
import { ANONYMOUS_USER } from '../../auth/open-authentication.js'

interface Match { rule: CompiledRule, vars: string[] }

/**
 * permission type `config`: deepstream's Valve rules. The longest pattern
 * that matches the name and defines the rule type decides; no rule denies.
 */
export class ValvePermission implements Permission {
  readonly description = 'valve permissions (config)'
  private rules: CompiledPermissions = { record: [], event: [], rpc: [], presence: [] }
  private readonly cache = new Map<string, Match | null>()
  private reader: RecordReader | null = null
  private evacuation: NodeJS.Timeout | null = null
  private readonly ready: Promise<void>
  private readonly maxRuleIterations: number

  constructor (private readonly options: PluginOptions, private readonly context: PluginContext) {
    const iterations = options.maxRuleIterations ?? 3
    if (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`permission.options.maxRuleIterations: must be a whole number of at least 1, got ${String(iterations)}`)
    this.maxRuleIterations = iterations
    this.ready = this.load()
  }

  /** Compiles the rules that `options` give, inline or in a file. */
  private async compile (options: PluginOptions): Promise<CompiledPermissions> {
    const { permissions, path } = options
    if (typeof permissions === 'object' && permissions !== null) return compilePermissions(permissions, 'permission.options.permissions')
    if (typeof path === 'string' || typeof permissions === 'string') {
      const file = resolve(this.context.configDir, String(path ?? permissions))
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        throw new ConfigError(`permission file ${file} cannot be read: ${errorMessage(error)}`)
      }
      let parsed: unknown
      try {
        parsed = parseYaml(text)
      } catch (error) {
        throw new ConfigError(`permission file ${file} is not valid YAML: ${errorMessage(error)}`)
      }
      return compilePermissions(parsed, file)
    }
    throw new ConfigError('permission config needs options.permissions (usually fileLoad(permissions.yml))')
  }

  async reload (options: PluginOptions): Promise<void> {
    const rules = await this.compile(options)
    this.rules = rules
    this.cache.clear()
  }

  private async load (): Promise<void> {
    this.rules = await this.compile(this.options)
    const interval = Number(this.options.cacheEvacuationInterval ?? 60000)
    this.evacuation = setInterval(() => this.cache.clear(), interval)
    this.evacuation.unref()
  }

  whenReady (): Promise<void> { return this.ready }

  async close (): Promise<void> {
    if (this.evacuation !== null) clearInterval(this.evacuation)
    this.cache.clear()
  }

  setRecordReader (reader: RecordReader): void { this.reader = reader }

  canPerformAction (request: PermissionRequest): boolean | Promise<boolean> {
    const section = SECTION_BY_TOPIC[request.topic]
    const type = ruleTypeFor(request.topic, request.action)
    if (section === undefined || type === undefined) return true
    const match = this.lookup(section, type, request.name)
    if (match === null) return false
    const { rule } = match
    const scope: RuleScope = {
      user: {
        isAuthenticated: request.user.id !== ANONYMOUS_USER,
        id: request.user.id,
        data: request.user.serverData,
      },
      data: undefined,
      oldData: undefined,
      now: Date.now(),
      action: request.action,
      name: request.name,
      vars: match.vars,
    }
    if (rule.usesData && request.topic !== TOPIC.RECORD) scope.data = parseData(request.message.data)
    if (request.topic === TOPIC.RECORD && (rule.usesData || rule.usesOldData)) return this.withRecord(request, rule, scope)
    return rule.usesRecords ? this.run(rule, scope) : rule.evaluate(scope)
  }

  /**
   * Runs a rule that reads other records with `_()`: each record it asks for
   * is loaded and the rule runs again, at most maxRuleIterations loads.
   */
  private async run (rule: CompiledRule, scope: RuleScope): Promise<boolean> {
    const loaded = new Map<string, unknown>()
    const record = (name: string): unknown => {
      if (loaded.has(name)) return loaded.get(name)
      throw new NeedRecord(name)
    }
    for (;;) {
      try {
        return rule.evaluate(scope, record)
      } catch (error) {
        if (!(error instanceof NeedRecord)) throw error
        if (loaded.size >= this.maxRuleIterations) throw new RuleRuntimeError(`rule "${rule.source}" reads more than maxRuleIterations (${this.maxRuleIterations}) records`)
        if (this.reader === null) throw new RuleRuntimeError('no record reader for _()')
        loaded.set(error.name, (await this.reader.read(error.name))?.data ?? null)
      }
    }
  }

  private async withRecord (request: PermissionRequest, rule: CompiledRule, scope: RuleScope): Promise<boolean> {
    if (this.reader === null) throw new Error('no record reader for permission rules')
    const current = await this.reader.read(request.name)
    // A record that does not exist yet reads as empty, as it does right after creation.
    scope.oldData = current?.data ?? {}
    if (rule.usesData) {
      const { message } = request
      const incoming = parseData(message.data)
      if (message.path !== undefined && (request.action === RECORD_ACTION.PATCH || request.action === RECORD_ACTION.ERASE)) {
        const base = structuredClone(scope.oldData)
        scope.data = setPath(base, message.path, request.action === RECORD_ACTION.ERASE ? undefined : incoming)
      } else {
        scope.data = incoming
      }
    }
    return rule.usesRecords ? this.run(rule, scope) : rule.evaluate(scope)
  }

  private lookup (section: Section, type: RuleType, name: string): Match | null {
    const key = `${section}\u0000${type}\u0000${name}`
    const cached = this.cache.get(key)
    if (cached !== undefined) return cached
    let best: Match | null = null
    let bestLength = -1
    for (const entry of this.rules[section]) {
      const rule = entry.rules[type]
      if (rule === undefined || entry.pattern.length <= bestLength) continue
      const found = entry.regex.exec(name)
      if (found === null) continue
      best = { rule, vars: found.slice(1) }
      bestLength = entry.pattern.length
    }
    this.cache.set(key, best)
    return best
  }
}

/** The message's data for rules: parsed JSON; opaque binary data reads as null. */
function parseData (data: string | Uint8Array | undefined): JSONValue | undefined {
  if (data === undefined) return undefined
  if (typeof data !== 'string') return null
  try {
    return JSON.parse(data) as JSONValue
  } catch {
    return undefined
  }
}

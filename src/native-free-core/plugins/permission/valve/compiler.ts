/**
 * Compiles a Valve permission file: path patterns into anchored regexes and
 * rule strings into functions. Everything is checked at load, with errors
 * that name the section, pattern and rule type.
 */
import { ConfigError, errorMessage } from '../../../errors.js'
import { HAS_DATA, HAS_OLD_DATA, RULE_TYPES, type RuleType, type Section } from '../rule-types.js'
import type { JSONValue } from '../../../protocol/message.js'
import { evaluate, parseRule, RuleRuntimeError, usesName, type Node } from './expression.js'

export interface RuleScope {
  user: { isAuthenticated: boolean, id: string, data: JSONValue | null }
  data: JSONValue | undefined
  oldData: JSONValue | undefined
  now: number
  action: number
  name: string
  vars: string[]
}

export interface CompiledRule {
  readonly source: string
  readonly usesData: boolean
  readonly usesOldData: boolean
  /** Whether the rule calls `_()` and so may need other records loaded first. */
  readonly usesRecords: boolean
  /**
   * Runs the rule. `record` answers `_()`; it throws NeedRecord for a record
   * not loaded yet. A rule that errs throws RuleRuntimeError.
   */
  evaluate (scope: RuleScope, record?: (name: string) => unknown): boolean
}

export interface CompiledPattern {
  readonly pattern: string
  readonly regex: RegExp
  readonly variables: string[]
  readonly rules: Partial<Record<RuleType, CompiledRule>>
}

export type CompiledPermissions = Record<Section, CompiledPattern[]>

function compilePattern (pattern: string, where: string): { regex: RegExp, variables: string[] } {
  if (pattern.startsWith('/')) throw new ConfigError(`${where}: a pattern must not start with "/"`)
  const variables: string[] = []
  let source = ''
  const token = /(\$[a-zA-Z_][a-zA-Z0-9_]*)|(\*)|([^$*]+)|(\$)/g
  for (const match of pattern.matchAll(token)) {
    if (match[1] !== undefined) {
      variables.push(match[1])
      source += '([^/]+)'
    } else if (match[2] !== undefined) {
      source += '.*'
    } else {
      source += (match[3] ?? match[4]).replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  return { regex: new RegExp(`^${source}$`), variables }
}

const BASE_NAMES = ['user', 'data', 'oldData', 'now', 'action', 'name', '_']

function noRecords (name: string): never {
  throw new RuleRuntimeError(`_('${name}') cannot be read here`)
}

function compileRule (rule: unknown, type: RuleType, variables: string[], where: string): CompiledRule {
  if (typeof rule === 'boolean') {
    return { source: String(rule), usesData: false, usesOldData: false, usesRecords: false, evaluate: () => rule }
  }
  if (typeof rule !== 'string') throw new ConfigError(`${where}: a rule must be true, false or an expression string`)
  let ast: Node
  try {
    ast = parseRule(rule, new Set([...BASE_NAMES, ...variables]))
  } catch (error) {
    throw new ConfigError(`${where}: rule "${rule}" is refused: ${errorMessage(error)}`)
  }
  const usesData = usesName(ast, 'data')
  const usesOldData = usesName(ast, 'oldData')
  if (usesData && !HAS_DATA.has(type)) throw new ConfigError(`${where}: "data" is not available in ${type} rules`)
  if (usesOldData && !HAS_OLD_DATA.has(type)) throw new ConfigError(`${where}: "oldData" is not available in ${type} rules`)
  return {
    source: rule,
    usesData,
    usesOldData,
    usesRecords: usesName(ast, '_'),
    evaluate: (s, record = noRecords) => {
      const values = new Map<string, unknown>([['user', s.user], ['data', s.data], ['oldData', s.oldData], ['now', s.now], ['action', s.action], ['name', s.name]])
      variables.forEach((variable, i) => values.set(variable, s.vars[i]))
      return evaluate(ast, { values, record }) === true
    },
  }
}

export function compilePermissions (raw: unknown, file: string): CompiledPermissions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: permissions must be a map of sections`)
  const out: CompiledPermissions = { record: [], event: [], rpc: [], presence: [] }
  for (const [section, patterns] of Object.entries(raw)) {
    if (!(section in RULE_TYPES)) throw new ConfigError(`${file}: unknown permission section "${section}"`)
    const types = RULE_TYPES[section as Section]
    if (typeof patterns !== 'object' || patterns === null) throw new ConfigError(`${file}: section "${section}" must map patterns to rules`)
    for (const [pattern, rules] of Object.entries(patterns as Record<string, unknown>)) {
      const where = `${file}: ${section} "${pattern}"`
      const { regex, variables } = compilePattern(pattern, where)
      if (typeof rules !== 'object' || rules === null) throw new ConfigError(`${where}: must map rule types to rules`)
      const compiled: Partial<Record<RuleType, CompiledRule>> = {}
      for (const [type, rule] of Object.entries(rules as Record<string, unknown>)) {
        if (!(types as readonly string[]).includes(type)) throw new ConfigError(`${where}: unknown rule type "${type}" (expected ${types.join(', ')})`)
        compiled[type as RuleType] = compileRule(rule, type as RuleType, variables, `${where} ${type}`)
      }
      out[section as Section].push({ pattern, regex, variables, rules: compiled })
    }
  }
  return out
}

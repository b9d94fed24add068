/**
 * Compiles a Valve permission file: path patterns into anchored regexes and
 * rule strings into functions. Everything is checked at load, with errors
 * that name the section, pattern and rule type.
 */
import { ConfigError } from '../../../errors.js'
import { HAS_DATA, HAS_OLD_DATA, RULE_TYPES, type RuleType, type Section } from './rules-map.js'
import type { JSONValue } from '../../../protocol/message.js'

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
  evaluate (scope: RuleScope): boolean
}

export interface CompiledPattern {
  readonly pattern: string
  readonly regex: RegExp
  readonly variables: string[]
  readonly rules: Partial<Record<RuleType, CompiledRule>>
}

export type CompiledPermissions = Record<Section, CompiledPattern[]>

const ALLOWED_CALLS = new Set(['startsWith', 'endsWith', 'includes', 'indexOf', 'match', 'toUpperCase', 'toLowerCase', 'trim'])

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

function compileRule (rule: unknown, type: RuleType, variables: string[], where: string): CompiledRule {
  if (typeof rule === 'boolean') {
    return { source: String(rule), usesData: false, usesOldData: false, evaluate: () => rule }
  }
  if (typeof rule !== 'string') throw new ConfigError(`${where}: a rule must be true, false or an expression string`)
  if (/\bnew\b/.test(rule)) throw new ConfigError(`${where}: "new" is not allowed in rules`)
  if (/\bfunction\b|=>/.test(rule)) throw new ConfigError(`${where}: functions are not allowed in rules`)
  for (const call of rule.matchAll(/([\w$]+)\s*\(/g)) {
    if (call[1] !== '_' && !ALLOWED_CALLS.has(call[1])) throw new ConfigError(`${where}: calling "${call[1]}" is not allowed in rules`)
  }
  const usesData = /\bdata\b/.test(rule.replace(/\buser\.data\b/g, '').replace(/\boldData\b/g, ''))
  const usesOldData = /\boldData\b/.test(rule)
  if (usesData && !HAS_DATA.has(type)) throw new ConfigError(`${where}: "data" is not available in ${type} rules`)
  if (usesOldData && !HAS_OLD_DATA.has(type)) throw new ConfigError(`${where}: "oldData" is not available in ${type} rules`)
  if (/\b_\s*\(/.test(rule)) throw new ConfigError(`${where}: cross-record references _() are not supported yet`)
  let fn: (...args: unknown[]) => unknown
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    fn = new Function('user', 'data', 'oldData', 'now', 'action', 'name', ...variables, `"use strict"; return (${rule});`) as (...args: unknown[]) => unknown
  } catch (error) {
    throw new ConfigError(`${where}: rule does not compile: ${(error as Error).message}`)
  }
  return {
    source: rule,
    usesData,
    usesOldData,
    evaluate: (s) => fn(s.user, s.data, s.oldData, s.now, s.action, s.name, ...s.vars) === true,
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

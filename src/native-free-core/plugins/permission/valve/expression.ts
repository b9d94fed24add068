/**
 * Valve rule expressions, parsed and interpreted here instead of being
 * handed to the JavaScript engine: a rule can only read the values it is
 * given (`user`, `data`, `oldData`, `now`, `action`, `name`, `$variables`,
 * `_()`), only their own JSON properties, and only call a short list of
 * string and array methods. There is no way from a rule to a prototype, a
 * constructor, `globalThis`, `process` or `require`: those names do not
 * exist in the language, and property lookups never leave the data.
 *
 * Grammar (JavaScript's, restricted):
 *   expr     := or ('?' expr ':' expr)?
 *   or       := and ('||' and)*          and := equality ('&&' equality)*
 *   equality := relation (('==' | '!=' | '===' | '!==') relation)*
 *   relation := sum (('<' | '<=' | '>' | '>=') sum)*
 *   sum      := product (('+' | '-') product)*
 *   product  := unary (('*' | '/' | '%') unary)*
 *   unary    := ('!' | '-' | '+' | 'typeof') unary | postfix
 *   postfix  := primary ('.' name | '[' expr ']' | '(' args ')')*
 *   primary  := number | string | true | false | null | undefined | name | '(' expr ')'
 */
import { RiptideError } from '../../../errors.js'

export type Node =
  | { kind: 'literal', value: unknown }
  | { kind: 'name', name: string }
  | { kind: 'member', object: Node, property: Node, computed: boolean }
  | { kind: 'call', callee: Node, args: Node[] }
  | { kind: 'unary', op: string, arg: Node }
  | { kind: 'binary', op: string, left: Node, right: Node }
  | { kind: 'conditional', test: Node, then: Node, otherwise: Node }

/** A rule that cannot be parsed, or uses what the language does not have. */
export class RuleSyntaxError extends RiptideError {
  override name = 'RuleSyntaxError'
  constructor (message: string) { super('RT_PERMISSION_RULES_INVALID', message) }
}

/** Evaluation failed (a property of undefined, a forbidden call on data): the rule errs, the request is refused. */
export class RuleRuntimeError extends RiptideError {
  override name = 'RuleRuntimeError'
  constructor (message: string) { super('RT_PERMISSION_RULE_FAILED', message) }
}

/** `_()` asked for a record not loaded yet; the caller loads it and evaluates again. */
export class NeedRecord {
  constructor (readonly name: string) {}
}

export const STRING_METHODS = new Set(['startsWith', 'endsWith', 'includes', 'indexOf', 'match', 'toUpperCase', 'toLowerCase', 'trim'])
const ARRAY_METHODS = new Set(['includes', 'indexOf'])
/** Names that reach into the engine's object model; never a property here. */
const FORBIDDEN_PROPERTIES = new Set(['__proto__', 'constructor', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__'])

const PUNCTUATORS = ['===', '!==', '==', '!=', '<=', '>=', '&&', '||', '(', ')', '[', ']', '.', ',', '?', ':', '!', '+', '-', '*', '/', '%', '<', '>']

type Token = { type: 'number' | 'string' | 'name' | 'punct', value: string | number, at: number }

function tokenize (source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const c = source[i]
    if (/\s/.test(c)) { i++; continue }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(source.slice(i)) as RegExpExecArray
      tokens.push({ type: 'number', value: Number(match[0]), at: i })
      i += match[0].length
      continue
    }
    if (c === '\'' || c === '"') {
      let value = ''
      let j = i + 1
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] !== '\\') { value += source[j]; continue }
        const next = source[++j]
        const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0' }
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(j + 1, j + 5))) {
          value += String.fromCharCode(parseInt(source.slice(j + 1, j + 5), 16))
          j += 4
        } else {
          value += escapes[next] ?? next
        }
      }
      if (j >= source.length) throw new RuleSyntaxError(`unterminated string at ${i}`)
      tokens.push({ type: 'string', value, at: i })
      i = j + 1
      continue
    }
    const name = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(source.slice(i))
    if (name !== null) {
      tokens.push({ type: 'name', value: name[0], at: i })
      i += name[0].length
      continue
    }
    const punct = PUNCTUATORS.find((p) => source.startsWith(p, i))
    if (punct === undefined) throw new RuleSyntaxError(`unexpected "${c}" at ${i}`)
    tokens.push({ type: 'punct', value: punct, at: i })
    i += punct.length
  }
  return tokens
}

const BINARY_LEVELS: string[][] = [['||'], ['&&'], ['==', '!=', '===', '!=='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%']]
const KEYWORDS: Record<string, unknown> = { true: true, false: false, null: null, undefined }

class Parser {
  private index = 0
  constructor (private readonly tokens: Token[]) {}

  parse (): Node {
    if (this.tokens.length === 0) throw new RuleSyntaxError('empty rule')
    const node = this.expression()
    const extra = this.tokens[this.index]
    if (extra !== undefined) throw new RuleSyntaxError(`unexpected "${extra.value}" at ${extra.at}`)
    return node
  }

  private peek (value: string): boolean {
    const token = this.tokens[this.index]
    return token?.type === 'punct' && token.value === value
  }

  private expect (value: string): void {
    if (!this.peek(value)) {
      const token = this.tokens[this.index]
      throw new RuleSyntaxError(token === undefined ? `expected "${value}" at the end` : `expected "${value}" at ${token.at}, found "${token.value}"`)
    }
    this.index++
  }

  private expression (): Node {
    const test = this.binary(0)
    if (!this.peek('?')) return test
    this.index++
    const then = this.expression()
    this.expect(':')
    return { kind: 'conditional', test, then, otherwise: this.expression() }
  }

  private binary (level: number): Node {
    if (level === BINARY_LEVELS.length) return this.unary()
    let left = this.binary(level + 1)
    for (;;) {
      const op = BINARY_LEVELS[level].find((candidate) => this.peek(candidate))
      if (op === undefined) return left
      this.index++
      left = { kind: 'binary', op, left, right: this.binary(level + 1) }
    }
  }

  private unary (): Node {
    const token = this.tokens[this.index]
    if (token?.type === 'name' && token.value === 'typeof') {
      this.index++
      return { kind: 'unary', op: 'typeof', arg: this.unary() }
    }
    for (const op of ['!', '-', '+']) {
      if (this.peek(op)) {
        this.index++
        return { kind: 'unary', op, arg: this.unary() }
      }
    }
    return this.postfix()
  }

  private postfix (): Node {
    let node = this.primary()
    for (;;) {
      if (this.peek('.')) {
        this.index++
        const token = this.tokens[this.index++]
        if (token?.type !== 'name') throw new RuleSyntaxError(`expected a property name after "." at ${token?.at ?? 'the end'}`)
        node = { kind: 'member', object: node, property: { kind: 'literal', value: token.value }, computed: false }
      } else if (this.peek('[')) {
        this.index++
        const property = this.expression()
        this.expect(']')
        node = { kind: 'member', object: node, property, computed: true }
      } else if (this.peek('(')) {
        this.index++
        const args: Node[] = []
        while (!this.peek(')')) {
          args.push(this.expression())
          if (!this.peek(')')) this.expect(',')
        }
        this.index++
        node = { kind: 'call', callee: node, args }
      } else {
        return node
      }
    }
  }

  private primary (): Node {
    const token = this.tokens[this.index++]
    if (token === undefined) throw new RuleSyntaxError('unexpected end of rule')
    if (token.type === 'number' || token.type === 'string') return { kind: 'literal', value: token.value }
    if (token.type === 'name') {
      const name = token.value as string
      if (name in KEYWORDS) return { kind: 'literal', value: KEYWORDS[name] }
      return { kind: 'name', name }
    }
    if (token.value === '(') {
      const node = this.expression()
      this.expect(')')
      return node
    }
    throw new RuleSyntaxError(`unexpected "${token.value}" at ${token.at}`)
  }
}

/** Parses a rule and checks that it only names `allowed` identifiers and calls what rules may call. */
export function parseRule (source: string, allowed: ReadonlySet<string>): Node {
  const node = new Parser(tokenize(source)).parse()
  check(node, allowed)
  return node
}

function check (node: Node, allowed: ReadonlySet<string>): void {
  switch (node.kind) {
    case 'literal': return
    case 'name':
      if (!allowed.has(node.name)) throw new RuleSyntaxError(`unknown name "${node.name}" (rules can use ${[...allowed].join(', ')})`)
      return
    case 'member':
      if (!node.computed && FORBIDDEN_PROPERTIES.has(node.property.kind === 'literal' ? String(node.property.value) : '')) {
        throw new RuleSyntaxError(`property "${String((node.property as { value: unknown }).value)}" is not allowed in rules`)
      }
      check(node.object, allowed)
      check(node.property, allowed)
      return
    case 'call': {
      const { callee } = node
      check(callee, allowed)
      if (callee.kind === 'name' && callee.name === '_') {
        if (node.args.length !== 1) throw new RuleSyntaxError('_() takes one record name')
      } else if (callee.kind !== 'member' || callee.computed || !STRING_METHODS.has(String((callee.property as { value: unknown }).value))) {
        throw new RuleSyntaxError(`only _() and the methods ${[...STRING_METHODS].join(', ')} can be called in rules`)
      } else if ((callee.property as { value: unknown }).value === 'match' && (node.args.length !== 1 || node.args[0].kind !== 'literal' || typeof node.args[0].value !== 'string')) {
        throw new RuleSyntaxError('match() takes one string literal (a pattern from the rule file, never from data)')
      }
      for (const arg of node.args) check(arg, allowed)
      return
    }
    case 'unary': check(node.arg, allowed); return
    case 'binary': check(node.left, allowed); check(node.right, allowed); return
    case 'conditional': check(node.test, allowed); check(node.then, allowed); check(node.otherwise, allowed)
  }
}

/** Whether the rule reads the name `name` as a value (not as a property of something else). */
export function usesName (node: Node, name: string): boolean {
  switch (node.kind) {
    case 'literal': return false
    case 'name': return node.name === name
    case 'member': return usesName(node.object, name) || (node.computed && usesName(node.property, name))
    case 'call': return usesName(node.callee, name) || node.args.some((arg) => usesName(arg, name))
    case 'unary': return usesName(node.arg, name)
    case 'binary': return usesName(node.left, name) || usesName(node.right, name)
    case 'conditional': return usesName(node.test, name) || usesName(node.then, name) || usesName(node.otherwise, name)
  }
}

export interface Environment {
  /** Values of the names a rule can use (`_` excluded). */
  readonly values: ReadonlyMap<string, unknown>
  /** A record's data for `_()`; throws NeedRecord when it is not loaded yet. */
  record (name: string): unknown
}

function property (object: unknown, key: unknown): unknown {
  if (object === null || object === undefined) throw new RuleRuntimeError(`cannot read "${String(key)}" of ${String(object)}`)
  const name = typeof key === 'number' ? String(key) : key
  if (typeof name !== 'string' || FORBIDDEN_PROPERTIES.has(name)) return undefined
  if (typeof object === 'string') {
    if (name === 'length') return object.length
    return /^[0-9]+$/.test(name) ? object[Number(name)] : undefined
  }
  if (Array.isArray(object)) {
    if (name === 'length') return object.length
    return /^[0-9]+$/.test(name) && Object.hasOwn(object, name) ? object[Number(name)] : undefined
  }
  if (typeof object === 'object' && Object.hasOwn(object, name)) return (object as Record<string, unknown>)[name]
  return undefined
}

function callMethod (receiver: unknown, method: string, args: unknown[]): unknown {
  if (typeof receiver === 'string' && STRING_METHODS.has(method)) {
    if (method === 'match') return receiver.match(new RegExp(String(args[0])))
    return (receiver[method as 'includes'] as (...a: unknown[]) => unknown).apply(receiver, args)
  }
  if (Array.isArray(receiver) && ARRAY_METHODS.has(method)) return (receiver[method as 'includes'] as (...a: unknown[]) => unknown).apply(receiver, args)
  throw new RuleRuntimeError(`${method}() cannot be called on ${receiver === null ? 'null' : typeof receiver}`)
}

export function evaluate (node: Node, env: Environment): unknown {
  switch (node.kind) {
    case 'literal': return node.value
    case 'name': return env.values.get(node.name)
    case 'member': return property(evaluate(node.object, env), evaluate(node.property, env))
    case 'call': {
      const { callee } = node
      if (callee.kind === 'name') {
        const name = evaluate(node.args[0], env)
        if (typeof name !== 'string') throw new RuleRuntimeError('_() needs a record name')
        return name.includes('undefined') ? undefined : env.record(name)
      }
      const { object, property: key } = callee as Extract<Node, { kind: 'member' }>
      return callMethod(evaluate(object, env), String((key as { value: unknown }).value), node.args.map((arg) => evaluate(arg, env)))
    }
    case 'unary': {
      const value = evaluate(node.arg, env)
      if (node.op === 'typeof') return typeof value
      if (node.op === '!') return !value
      return node.op === '-' ? -(value as number) : +(value as number)
    }
    case 'binary': return binary(node, env)
    case 'conditional': return evaluate(node.test, env) ? evaluate(node.then, env) : evaluate(node.otherwise, env)
  }
}

function binary (node: Extract<Node, { kind: 'binary' }>, env: Environment): unknown {
  const left = evaluate(node.left, env)
  if (node.op === '&&') return left ? evaluate(node.right, env) : left
  if (node.op === '||') return left ? left : evaluate(node.right, env)
  const right = evaluate(node.right, env)
  // Values are JSON data: objects from JSON.parse have no methods of their own to run.
  const a = left as number
  const b = right as number
  switch (node.op) {
    case '===': return left === right
    case '!==': return left !== right
    // eslint-disable-next-line eqeqeq
    case '==': return left == right
    // eslint-disable-next-line eqeqeq
    case '!=': return left != right
    case '<': return a < b
    case '<=': return a <= b
    case '>': return a > b
    case '>=': return a >= b
    case '+': return a + b
    case '-': return a - b
    case '*': return a * b
    case '/': return a / b
    default: return a % b
  }
}

/**
 * Valve rules run in riptide's own interpreter: hostile rules are refused
 * when the file loads (with the file, section, pattern and rule named), and
 * nothing a client sends can make a rule reach outside the data.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { compilePermissions } from '../src/native-free-core/plugins/permission/valve/compiler.js'
import { closeClients, connect, DEFAULT_KIND, eventually, RawClient, startTestServer, type TestServer } from './helpers.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

function refusal (rule: string): string {
  try {
    compilePermissions({ record: { 'doc/$id': { write: rule } } }, 'rules.yml')
  } catch (error) {
    return (error as Error).message
  }
  throw new Error(`rule was accepted: ${rule}`)
}

function run (rule: string, data: unknown, type: 'write' | 'read' = 'write'): boolean {
  const compiled = compilePermissions({ record: { 'doc/$id': { [type]: rule } } }, 'rules.yml').record[0].rules[type]
  if (compiled === undefined) throw new Error('no rule')
  return compiled.evaluate({ user: { isAuthenticated: true, id: 'u', data: null }, data: data as never, oldData: {}, now: 0, action: 0, name: 'doc/1', vars: ['1'] })
}

describe('valve rules that reach for the process', () => {
  it('are refused at load, naming the file, section, pattern, rule type and rule', () => {
    expect(refusal("''.constructor.constructor('return process')()")).toMatch(/^rules\.yml: record "doc\/\$id" write: rule "''\.constructor.*" is refused: property "constructor" is not allowed/)
    expect(refusal('globalThis.process.exit()')).toContain('unknown name "globalThis"')
    expect(refusal('process.env.SECRET.startsWith("a")')).toContain('unknown name "process"')
    expect(refusal("require('fs')")).toContain('unknown name "require"')
    expect(refusal("data.text.toString()")).toContain('only _() and the methods')
    expect(refusal('this.x')).toContain('unknown name "this"')
    expect(refusal('user.__proto__.polluted')).toContain('"__proto__" is not allowed')
    expect(refusal('data.text.match(data.pattern)')).toContain('match() takes one string literal')
    expect(refusal('(() => true)()')).toMatch(/unexpected|only _\(\)/)
    expect(refusal('new Date()')).toContain('unexpected "Date"')
    expect(refusal('data.x ==')).toContain('unexpected end')
  })

  it('deny at run time when data names a dangerous property, instead of following it', () => {
    expect(run('data[data.key] === undefined', { key: 'constructor' })).toBe(true)
    expect(run("data['__proto__'] === undefined", {})).toBe(true)
    expect(run('data.list.includes(3) && data.name.toUpperCase() === "ADA"', { list: [1, 3], name: 'ada' })).toBe(true)
    expect(run("typeof data.n === 'number' && data.n * 2 > 3 ? true : false", { n: 2 })).toBe(true)
    expect(() => run('data.missing.deeper === 1', {})).toThrow(/cannot read "deeper" of undefined/)
    expect(() => run('data.n.includes(1)', { n: 5 })).toThrow(/includes\(\) cannot be called on number/)
  })
})

describe('cross-record rules with _()', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      auth: [{ type: 'file', options: { path: 'users.yml' } }],
      permission: { type: 'config', options: { path: 'permissions.yml', maxRuleIterations: 3 } },
    }, DEFAULT_KIND, fixtures)
  })
  afterEach(() => closeClients())
  afterAll(async () => { await server.close() })

  it('reads other records, and refuses a rule that needs more than maxRuleIterations of them', async () => {
    const bob = await connect(server, { username: 'bob', password: 'builder' })
    await bob.record.setDataWithAck('stock/apple', { count: 3 })
    await bob.record.setDataWithAck('stock/pear', { count: 0 })
    const denied: string[] = []
    bob.on('error', (_error: unknown, event: string) => denied.push(event))
    bob.event.emit('order/apple', {})
    bob.event.emit('order/pear', {})
    await bob.record.setDataWithAck('chain/a', { next: 'chain/b' })
    await bob.record.setDataWithAck('chain/b', { next: 'chain/c' })
    await bob.record.setDataWithAck('chain/c', { next: 'chain/d' })
    await bob.record.setDataWithAck('chain/d', { ok: true })
    const raw = await RawClient.login(server, { username: 'bob', password: 'builder' })
    raw.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'deep/x', data: '{}' })
    // Four records deep, with maxRuleIterations 3: the rule errs.
    expect(await raw.next((m) => m.name === 'deep/x')).toMatchObject({ action: EVENT_ACTION.MESSAGE_PERMISSION_ERROR, originalAction: EVENT_ACTION.EMIT })
    raw.close()
    const watcher = await connect(server, { username: 'alice', password: 'wonderland' })
    const seen: string[] = []
    watcher.event.subscribe('order/apple', () => seen.push('apple'))
    watcher.event.subscribe('order/pear', () => seen.push('pear'))
    // Allowed while stock lasts: emitted until the watcher's subscriptions are live and it hears one.
    await eventually(() => {
      bob.event.emit('order/apple', {})
      expect(seen).toContain('apple')
    })
    // Refused when there is none: bob is told, and a refused emit is dropped, never forwarded.
    bob.event.emit('order/pear', {})
    await eventually(() => expect(denied).toEqual(['MESSAGE_DENIED', 'MESSAGE_DENIED']))
    expect(seen.filter((order) => order !== 'apple')).toEqual([])
  })
})

/**
 * Record paths as deepstream writes them: dot-separated keys with `[n]`
 * array indices (`a.b[0].c`). Missing nodes are created (an array when the
 * next token is an index). Setting `undefined` deletes the key.
 * Segments that reach an object's prototype are refused, and so is an index
 * that would grow an array by more than MAX_ARRAY_GROWTH slots: a path of a
 * few bytes such as `[99999999]` would otherwise make a record of 100
 * million nulls, half a gigabyte of JSON and tens of seconds of one thread.
 */
import type { JSONValue } from '../protocol/message.js'
import { RiptideError } from '../errors.js'

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/** The most slots one path index may add to an array (about 500 KB of nulls). */
export const MAX_ARRAY_GROWTH = 100_000
type Token = string | number

export class InvalidPathError extends RiptideError {
  override name = 'InvalidPathError'
  constructor (message: string) { super('RT_RECORD_PATH', message) }
}

export function tokenize (path: string): Token[] {
  const tokens: Token[] = []
  for (const raw of path.split('.')) {
    const part = raw.trim()
    if (part === '') continue
    const re = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part)
    if (re === null) throw new InvalidPathError(`invalid path segment "${part}"`)
    if (re[1] !== '') tokens.push(re[1])
    for (const index of re[2].matchAll(/\[(\d+)\]/g)) tokens.push(Number(index[1]))
  }
  if (tokens.length === 0) throw new InvalidPathError('empty path')
  for (const token of tokens) {
    if (typeof token === 'string' && FORBIDDEN.has(token)) throw new InvalidPathError(`path segment "${token}" is not allowed`)
  }
  return tokens
}

type Container = { [key: string]: JSONValue } | JSONValue[]

/** Refuses an index that would pad `length` slots out with more than MAX_ARRAY_GROWTH nulls. */
function checkGrowth (index: number, length: number): void {
  if (index - length > MAX_ARRAY_GROWTH) throw new InvalidPathError(`index ${index} would add more than ${MAX_ARRAY_GROWTH} slots to an array of ${length}`)
}

function isContainer (value: unknown): value is Container {
  return typeof value === 'object' && value !== null
}

/** Returns the new root; the root may be replaced when it is not a container. */
export function setPath (root: JSONValue, path: string, value: JSONValue | undefined): JSONValue {
  const tokens = tokenize(path)
  const top: Container = isContainer(root) ? root : (typeof tokens[0] === 'number' ? [] : {})
  let node: Container = top
  for (let i = 0; i < tokens.length - 1; i++) {
    const key = tokens[i]
    const current = (node as Record<string | number, JSONValue>)[key]
    if (isContainer(current)) {
      node = current
    } else {
      // The client fills a new array with nulls up to the index; so do we.
      if (Array.isArray(node) && typeof key === 'number') checkGrowth(key, node.length)
      const next = tokens[i + 1]
      if (typeof next === 'number') checkGrowth(next, 0)
      const created: Container = typeof next === 'number' ? new Array<JSONValue>(next).fill(null) : {}
      ;(node as Record<string | number, JSONValue>)[key] = created
      node = created
    }
  }
  const last = tokens[tokens.length - 1]
  if (Array.isArray(node) && typeof last === 'number') checkGrowth(last, node.length)
  if (value === undefined) {
    // The client deletes an array slot, leaving a hole that serialises as null.
    if (Array.isArray(node) && typeof last === 'number') { if (last < node.length) node[last] = null } else if (Object.hasOwn(node, last)) Reflect.deleteProperty(node, last)
  } else {
    (node as Record<string | number, JSONValue>)[last] = value
  }
  return top
}

export function getPath (root: JSONValue, path: string): JSONValue | undefined {
  let node: JSONValue | undefined = root
  for (const token of tokenize(path)) {
    if (!isContainer(node)) return undefined
    node = (node as Record<string | number, JSONValue>)[token]
  }
  return node
}

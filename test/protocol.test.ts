import { describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { decodeProtobuf, encodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'
import { shortAscii } from '../src/native-free-core/protocol/short-strings.js'
import { ERROR_CODES } from '../src/index.js'
import { errorMessage, errorStack, RiptideError, wireError } from '../src/native-free-core/errors.js'
import { InvalidPathError, MAX_ARRAY_GROWTH, setPath } from '../src/native-free-core/records/json-path.js'
import type { Message } from '../src/index.js'

const require = createRequire(import.meta.url)
const { getMessage } = require('@deepstream/protobuf/dist/src/message-builder') as { getMessage (m: object): Uint8Array }
const { parse } = require('@deepstream/protobuf/dist/src/message-parser') as { parse (b: Uint8Array): object[] }

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

const samples: Message[] = [
  { topic: 2, action: 2 },
  { topic: 3, action: 3, data: 'null' },
  { topic: 5, action: 23, correlationId: '0', names: ['rec1', 'rec2'], isAck: true },
  { topic: 5, action: 4, data: '{"a":1}', name: 'rec1', version: 0 },
  { topic: 5, action: 19, data: '5', name: 'rec1', path: 'a.b[0]', version: -1 },
  { topic: 5, action: 8, versions: { a: 1, b: -1 } },
  { topic: 5, action: 102, name: 'r', version: 3, isError: false, isWriteAck: true, correlationId: '9', originalAction: 18, path: '' },
  { topic: 6, action: 2, data: '{"a":1}', correlationId: 'abc', name: 'add', requestorName: 'u' },
  { topic: 7, action: 3, names: ['a', 'b'] },
  { topic: 4, action: 11, name: '^p/.*', subscription: 'p/1' },
  { topic: 1, action: 1, originalAction: 3 },
]

describe('ws-binary codec', () => {
  it('writes the same bytes as @deepstream/protobuf 1.0.9, field presence included', () => {
    for (const sample of samples) expect(hex(encodeProtobuf(sample)), JSON.stringify(sample)).toBe(hex(getMessage({ ...sample })))
  })

  it('writes fields in field order whatever order the properties of a message were set in, leaving out undefined ones', () => {
    for (const sample of samples) {
      const reversed = Object.fromEntries([['extra', 1], ['name', undefined], ...Object.entries(sample).reverse()]) as unknown as Message
      expect(hex(encodeProtobuf(reversed)), JSON.stringify(sample)).toBe(hex(getMessage({ ...sample })))
    }
  })

  it('reads what @deepstream/protobuf writes', () => {
    for (const sample of samples) {
      const decoded = decodeProtobuf(getMessage({ ...sample }))
      const reference = parse(getMessage({ ...sample }))[0] as Record<string, unknown>
      for (const [key, value] of Object.entries(decoded)) expect(value, key).toEqual(reference[key])
    }
  })

  it('matches the byte dumps of the reference', () => {
    expect(hex(encodeProtobuf({ topic: 2, action: 2 }))).toBe('0610021a020802')
    expect(hex(encodeProtobuf({ topic: 4, action: 2, data: '"hi"', name: 'ev' }))).toBe('1010041a0c080212042268692232026576')
  })

  it('rejects truncated and garbage frames with a protocol error', () => {
    const good = encodeProtobuf(samples[3])
    for (const bad of [good.slice(0, 5), new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array([])]) {
      expect(() => decodeProtobuf(bad)).toThrow(expect.objectContaining({ code: 'RT_PROTOCOL' }))
    }
  })
})

describe('short strings of message bytes', () => {
  it('reads ranges of plain Uint8Arrays, far more distinct names than the cache holds, and leaves the rest to a UTF-8 decoder', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `topic/${i}`)
    const bytes = new Uint8Array(Buffer.from(`>${names.join('')}<`))
    const read = (): string[] => {
      let at = 1
      return names.map((name) => shortAscii(bytes, at, (at += name.length)) as string)
    }
    expect(read()).toEqual(names)
    expect(read()).toEqual(names) // again, partly from the cache
    expect(shortAscii(bytes, 0, 0)).toBe('')
    expect(shortAscii(new Uint8Array(Buffer.from('café')), 0, 5)).toBeUndefined()
    expect(shortAscii(bytes, 0, 65)).toBeUndefined()
  })
})

describe('json paths', () => {
  it('sets, creates and deletes like the client does', () => {
    expect(setPath({}, 'a.b[2].c', 1)).toEqual({ a: { b: [null, null, { c: 1 }] } })
    expect(setPath({ a: 1, b: 2 }, 'a', undefined)).toEqual({ b: 2 })
    expect(() => setPath({}, 'x.__proto__.y', 1)).toThrow(/not allowed/)
  })

  it('refuses an index that would pad an array with more than MAX_ARRAY_GROWTH nulls, wherever it sits', () => {
    const length = MAX_ARRAY_GROWTH + 5
    // Within reach of an array's end: allowed, however long the array already is.
    const grown = setPath({ a: Array.from({ length }, () => 0) }, `a[${length + MAX_ARRAY_GROWTH - 1}]`, 1) as { a: unknown[] }
    expect(grown.a).toHaveLength(length + MAX_ARRAY_GROWTH)
    expect(setPath(1, `[${MAX_ARRAY_GROWTH}]`, 1)).toHaveLength(MAX_ARRAY_GROWTH + 1)
    for (const [root, path] of [[1, '[99999999]'], [[], '[99999999]'], [{}, 'a[99999999]'], [{ a: [] }, 'a[99999999].b'], [{}, 'a[0][99999999]']] as const) {
      expect(() => setPath(structuredClone(root), path, 1), path).toThrow(/more than 100000 slots/)
    }
  })
})

describe('error catalogue', () => {
  it('documents every error code in docs/errors.md', () => {
    const doc = readFileSync(fileURLToPath(new URL('../docs/errors.md', import.meta.url)), 'utf8')
    for (const code of Object.keys(ERROR_CODES)) expect(doc, code).toContain(`\`${code}\``)
  })

  it('rebuilds an error that crossed a thread, keeping a code riptide does not know in its message', () => {
    expect(RiptideError.fromWire({ code: 'RT_LISTEN_FAILED', message: 'port taken' })).toMatchObject({ code: 'RT_LISTEN_FAILED', message: 'port taken' })
    expect(RiptideError.fromWire({ code: 'EACCES', message: 'permission denied' })).toMatchObject({ code: 'RT_WORKER_FAILED', message: 'EACCES: permission denied' })
    expect(RiptideError.fromWire({ code: '', message: 'boom' })).toMatchObject({ code: 'RT_WORKER_FAILED', message: 'boom' })
    // What a worker sends for anything thrown, and what the supervisor makes of it.
    expect(wireError(new RiptideError('RT_LISTEN_FAILED', 'port taken'))).toEqual({ code: 'RT_LISTEN_FAILED', message: 'port taken' })
    expect(wireError(Object.assign(new Error('permission denied'), { code: 'EACCES' }))).toEqual({ code: 'EACCES', message: 'permission denied' })
    expect(wireError('boom')).toEqual({ code: '', message: 'boom' })
    expect(RiptideError.fromWire(wireError(Object.assign(new Error('no'), { code: 7 })))).toMatchObject({ code: 'RT_WORKER_FAILED', message: '7: no' })
  })

  it('gives every error class of the server a code', () => {
    expect(new InvalidPathError('x')).toMatchObject({ code: 'RT_RECORD_PATH', name: 'InvalidPathError' })
    expect(() => setPath({}, 'a.__proto__', 1)).toThrow(expect.objectContaining({ code: 'RT_RECORD_PATH' }))
  })

  it('turns anything thrown into text, with the stack only where asked', () => {
    const error = new RangeError('out of range')
    expect(errorMessage(error)).toBe('out of range')
    expect(errorStack(error)).toMatch(/^RangeError: out of range\n\s+at /)
    // Not an Error, or an error of another realm (a plain object with its fields).
    expect(errorMessage('a string')).toBe('a string')
    expect(errorMessage(undefined)).toBe('undefined')
    expect(errorMessage({ code: 7 })).toBe('[object Object]')
    expect(errorMessage({ message: 'from elsewhere' })).toBe('from elsewhere')
    expect(errorStack({ message: 'no stack' })).toBe('no stack')
    expect(errorStack(42)).toBe('42')
  })
})

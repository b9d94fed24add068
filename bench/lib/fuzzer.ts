/**
 * Throws random and mutated frames at every endpoint of a server: protobuf
 * WebSocket, JSON WebSocket, native WebSocket and HTTP JIF. Frames are seeded, so a run that
 * finds something can be replayed. Used by test/fuzz.test.ts (seconds) and
 * bench/fuzz.ts (minutes).
 */
import WebSocket from 'ws'
import { encodeProtobuf } from '../../src/native-free-core/protocol/protobuf-codec.js'
import { encodeNative, joinFrames, NATIVE_PATH, NATIVE_PROTOCOL_VERSION } from '../../src/native-free-core/protocol/native-codec.js'
import { AUTH_ACTION, CONNECTION_ACTION, EVENT_ACTION, PRESENCE_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import type { Message } from '../../src/native-free-core/protocol/message.js'

/** mulberry32: a small seeded generator, enough for fuzzing. */
export function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NAMES = ['a', 'user/1', '', 'x'.repeat(3000), '\u0000\u0001', '__proto__', 'constructor.prototype', '../../etc', '[0].a', 'ünï/ç']
const PATHS = ['a', 'a.b[0]', '__proto__.x', 'constructor.prototype.y', '[99999999]', 'a..b', '', 'x'.repeat(500)]
const DATA = ['{}', '[]', '{"a":1}', 'null', '1', '"s"', '{', '[[[[[[[[', '{"__proto__":{"x":1}}', JSON.stringify({ big: 'y'.repeat(20000) }), '\u0000', '']

function pick<T> (next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]
}

/** A message that is valid in shape, with hostile contents. */
export function plausibleMessage (next: () => number): Message {
  const topics: Array<[number, Record<string, number>]> = [
    [TOPIC.EVENT, EVENT_ACTION], [TOPIC.RECORD, RECORD_ACTION], [TOPIC.RPC, RPC_ACTION], [TOPIC.PRESENCE, PRESENCE_ACTION], [TOPIC.CONNECTION, CONNECTION_ACTION], [TOPIC.AUTH, AUTH_ACTION],
  ]
  const [topic, actions] = pick(next, topics)
  const message: Message = { topic: topic as Message['topic'], action: next() < 0.9 ? pick(next, Object.values(actions)) : Math.floor(next() * 130) }
  if (next() < 0.7) message.name = pick(next, NAMES)
  if (next() < 0.4) message.names = Array.from({ length: Math.floor(next() * 5) }, () => pick(next, NAMES))
  if (next() < 0.6) message.data = pick(next, DATA)
  if (next() < 0.4) message.correlationId = String(Math.floor(next() * 10))
  if (next() < 0.4) message.version = Math.floor(next() * 20) - 2
  if (next() < 0.3) message.path = pick(next, PATHS)
  if (next() < 0.2) message.isWriteAck = next() < 0.5
  if (next() < 0.1) message.subscription = pick(next, NAMES)
  return message
}

/** 1 to 4 native messages in one frame, some with binary data. */
function nativeFrame (next: () => number): Uint8Array {
  const parts = Array.from({ length: 1 + Math.floor(next() * 4) }, () => {
    const message = plausibleMessage(next)
    if (next() < 0.2) message.data = Uint8Array.from({ length: Math.floor(next() * 32) }, () => Math.floor(next() * 256))
    return encodeNative(message)
  })
  return joinFrames(parts, parts.reduce((sum, part) => sum + part.byteLength, 0))
}

/** Random bytes, or a valid frame (protobuf, or native with `native`) with some bytes changed, cut or repeated. */
export function binaryFrame (next: () => number, native = false): Uint8Array {
  const roll = next()
  if (roll < 0.2) return Uint8Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256))
  let frame: Uint8Array
  try {
    frame = native ? nativeFrame(next) : encodeProtobuf(plausibleMessage(next))
  } catch {
    return new Uint8Array([0x08, Math.floor(next() * 256)])
  }
  if (roll < 0.6) return frame
  const mutated = Uint8Array.from(frame)
  for (let i = 0; i < 1 + next() * 4; i++) mutated[Math.floor(next() * mutated.length)] = Math.floor(next() * 256)
  return roll < 0.8 ? mutated : mutated.subarray(0, Math.floor(next() * mutated.length))
}

/** JSON-ish text for the JSON endpoints. */
export function textFrame (next: () => number): string {
  const roll = next()
  if (roll < 0.2) return Array.from({ length: Math.floor(next() * 40) }, () => String.fromCharCode(Math.floor(next() * 128))).join('')
  const text = JSON.stringify(plausibleMessage(next))
  if (roll < 0.7) return text
  const at = Math.floor(next() * text.length)
  return text.slice(0, at) + pick(next, ['{', '"', ']', '\\u', '1e999', 'null', '']) + text.slice(at + 1)
}

export interface FuzzReport {
  frames: number
  connections: number
  closedByServer: number
  /** HTTP requests the server did not answer within the fuzzer's bound (their bodies, cut to 200 characters). */
  unanswered: string[]
  /** WebSocket connections the server neither opened nor refused within 5 s. */
  stalledOpens: number
}

const OPEN_BOUND_MS = 5000

type Wire = 'protobuf' | 'json' | 'native'

/** Opens a WebSocket, logs in (or not), and sends frames until `deadline`; reconnects when closed. */
async function fuzzSocket (url: string, wire: Wire, next: () => number, deadline: number, report: FuzzReport): Promise<void> {
  const binary = wire !== 'json'
  const encode = (message: Message): Uint8Array | string => wire === 'json' ? JSON.stringify(message) : wire === 'native' ? encodeNative(message) : encodeProtobuf(message)
  while (Date.now() < deadline) {
    const ws = new WebSocket(url)
    report.connections++
    const opened = await new Promise<boolean | 'stalled'>((resolve) => {
      const timer = setTimeout(() => resolve('stalled'), OPEN_BOUND_MS)
      ws.once('open', () => { clearTimeout(timer); resolve(true) })
      ws.once('error', () => { clearTimeout(timer); resolve(false) })
    })
    if (opened === 'stalled') {
      report.stalledOpens++
      ws.terminate()
    }
    if (opened !== true) continue
    ws.on('error', () => {})
    const closed = new Promise<void>((resolve) => ws.once('close', (code: number) => {
      if (code === 1008 || code === 1009 || code === 1000) report.closedByServer++
      resolve()
    }))
    if (next() < 0.7) {
      const hello: Message[] = [{ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url, protocolVersion: NATIVE_PROTOCOL_VERSION }, { topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: '{}' }]
      for (const message of hello) ws.send(encode(message))
    }
    for (let i = 0; i < 200 && Date.now() < deadline && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(binary ? binaryFrame(next, wire === 'native') : textFrame(next), { binary })
      report.frames++
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    ws.close()
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 500))])
    ws.terminate()
  }
}

async function fuzzHttp (base: string, next: () => number, deadline: number, report: FuzzReport, boundMs: number): Promise<void> {
  while (Date.now() < deadline) {
    const body = next() < 0.5
      ? JSON.stringify({ authData: {}, body: Array.from({ length: 1 + Math.floor(next() * 3) }, () => plausibleMessage(next)) })
      : textFrame(next)
    try {
      const response = await fetch(`${base}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(boundMs) })
      await response.text()
    } catch (error) {
      // A refused connection is an answer too; silence past the bound is not.
      if ((error as Error).name === 'TimeoutError') report.unanswered.push(body.slice(0, 200))
    }
    report.frames++
  }
}

/**
 * Fuzzes every endpoint of the server on `port` for `ms` milliseconds with `sockets` connections
 * each; an HTTP request unanswered after `httpBoundMs` is given up and reported.
 */
export async function fuzz (port: number, ms: number, seed: number, sockets = 4, httpBoundMs = 30_000): Promise<FuzzReport> {
  const report: FuzzReport = { frames: 0, connections: 0, closedByServer: 0, unanswered: [], stalledOpens: 0 }
  const deadline = Date.now() + ms
  const next = random(seed)
  const jobs: Array<Promise<void>> = []
  for (let i = 0; i < sockets; i++) {
    jobs.push(fuzzSocket(`ws://127.0.0.1:${port}/deepstream`, 'protobuf', random(Math.floor(next() * 2 ** 32)), deadline, report))
    jobs.push(fuzzSocket(`ws://127.0.0.1:${port}/deepstream-json`, 'json', random(Math.floor(next() * 2 ** 32)), deadline, report))
    jobs.push(fuzzSocket(`ws://127.0.0.1:${port}${NATIVE_PATH}`, 'native', random(Math.floor(next() * 2 ** 32)), deadline, report))
  }
  jobs.push(fuzzHttp(`http://127.0.0.1:${port}`, random(Math.floor(next() * 2 ** 32)), deadline, report, httpBoundMs))
  await Promise.all(jobs)
  return report
}

/**
 * The cost of a message in each protocol: the same workloads over
 * deepstream's protobuf and over riptide's native FlatBuffers protocol
 * against riptide, with @deepstream/server 7.0.2 (protobuf only) as the
 * baseline, in one run:
 *
 *   npm run bench:protocols [-- --seconds 5]
 *
 * For each workload and side it reports messages per second, the server's
 * CPU per message (user + system time of the whole server process over the
 * measured window, divided by the messages of that window), the load
 * generator's CPU per message, and the bytes each message took on the wire
 * (WebSocket payload received by the measuring sockets).
 *
 * A second table times the codecs alone, in this process: encoding and
 * decoding one message of each kind, protobuf against native.
 *
 * Both protocols run the same workloads with the same windows. The native
 * load sockets do what riptide/client does: what one turn sends leaves as
 * one frame, and the server answers in kind; the protobuf sockets send and
 * receive one message per frame, as @deepstream/client does.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startDeepstream, startRiptide, type Target } from './lib/targets.js'
import { runLoad } from './lib/load.js'
import { ACKED_WRITES, FAN_OUT_1000, fanOut100, jobsFor, MANY_TOPICS, measuredReports, RECORD_UPDATES, RPC, type Workload } from './lib/workloads.js'
import type { WireProtocol } from './lib/protocol-client.js'
import { decodeProtobuf, encodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'
import { decodeNativeFrame, encodeNative } from '../src/native-free-core/protocol/native-codec.js'
import { EVENT_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import type { Message } from '../src/native-free-core/protocol/message.js'
import { progress, saveResults } from './lib/report.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } })
const SECONDS = Number(args.seconds)

interface Measure {
  perSecond: number
  serverMicros: number
  generatorMicros: number
  bytes: number
}

const WORKLOADS: Workload[] = [fanOut100(), FAN_OUT_1000, MANY_TOPICS, RECORD_UPDATES, ACKED_WRITES, RPC]

async function measure (target: Target, workload: Workload, protocol: WireProtocol, index: number): Promise<Measure> {
  const name = `proto-${index}-${protocol}-${Date.now()}`
  const run = await runLoad(jobsFor(workload, name, target.port, SECONDS, protocol), target.pid)
  const reports = measuredReports(workload, run.reports)
  const count = reports.reduce((sum, report) => sum + report.count, 0)
  const bytes = reports.reduce((sum, report) => sum + report.bytes, 0)
  const perMessage = (seconds: number): number => count === 0 ? Number.NaN : (seconds * 1e6) / count
  return { perSecond: count / SECONDS, serverMicros: perMessage(run.cpuSeconds), generatorMicros: perMessage(run.generatorCpuSeconds), bytes: count === 0 ? Number.NaN : bytes / count }
}

const CODEC_SAMPLES: Array<[string, Message]> = [
  ['event emit, 13-byte JSON payload', { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'chat/room-42', data: '{"text":"hi"}' }],
  ['record update, 230-byte JSON payload', {
    topic: TOPIC.RECORD,
    action: RECORD_ACTION.UPDATE,
    name: 'user/ada-lovelace',
    version: 17,
    data: JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.com', tags: ['math', 'engines', 'poetry'], address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH' }, visits: 1843, active: true }),
  }],
  ['rpc request with correlation id', { topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name: 'add', correlationId: 'riptide-1:12345', data: '[1,2]', requestorName: 'ada' }],
  ['write ack', { topic: TOPIC.RECORD, action: RECORD_ACTION.WRITE_ACKNOWLEDGEMENT, name: 'user/ada-lovelace', correlationId: '42', isWriteAck: true }],
]

/** Microseconds per call of `fn`, the best of 5 timed rounds of `n` calls after a warm-up. */
function microsPerCall (fn: () => unknown, n = 100_000): number {
  for (let i = 0; i < n / 5; i++) fn()
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 5; round++) {
    const started = performance.now()
    for (let i = 0; i < n; i++) fn()
    best = Math.min(best, ((performance.now() - started) * 1000) / n)
  }
  return best
}

function codecTable (): string {
  const lines = [
    '| message | protobuf encode µs | decode µs | B | native encode µs | decode µs | B |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const [label, message] of CODEC_SAMPLES) {
    const protobuf = encodeProtobuf(message)
    const native = encodeNative(message)
    const cells = [
      microsPerCall(() => encodeProtobuf(message)), microsPerCall(() => decodeProtobuf(protobuf)), protobuf.byteLength,
      microsPerCall(() => encodeNative(message)), microsPerCall(() => decodeNativeFrame(native)), native.byteLength,
    ]
    lines.push(`| ${label} | ${cells.map((value, i) => i % 3 === 2 ? String(value) : value.toFixed(2)).join(' | ')} |`)
  }
  return lines.join('\n')
}

const SIDES = [
  { key: 'deepstream', target: 'deepstream 7.0.2 (uWS)', protocol: 'protobuf' },
  { key: 'protobuf', target: 'riptide', protocol: 'protobuf' },
  { key: 'native', target: 'riptide', protocol: 'native' },
] as const

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-protocols-'))
  const results: Record<string, Record<string, Measure>> = {}
  const total = WORKLOADS.length * SIDES.length
  let step = 0
  try {
    for (const start of [startDeepstream, startRiptide]) {
      const target = await start(work)
      try {
        for (const [index, workload] of WORKLOADS.entries()) {
          for (const side of SIDES) {
            if (side.target !== target.name) continue
            progress(step++, total, `${side.key}: ${workload.label}`, 70)
            results[workload.label] ??= {}
            results[workload.label][side.key] = await measure(target, workload, side.protocol, index)
          }
        }
      } finally {
        await target.stop()
      }
    }
    progress(total, total, 'done', 70)
    const n = (value: number): string => Number.isNaN(value) ? '–' : Math.round(value).toLocaleString('en')
    const f = (value: number): string => Number.isNaN(value) ? '–' : value.toFixed(2)
    console.log('\n\nmsg/s: messages per second; µs: CPU per message, server (whole process) and load generator; B: wire bytes per message.\n')
    console.log('| workload | deepstream msg/s | µs server | riptide protobuf msg/s | µs server | µs generator | B | riptide native msg/s | µs server | µs generator | B | native / protobuf msg/s | native / protobuf µs server |')
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const workload of WORKLOADS) {
      const { deepstream: ds, protobuf: pb, native: nt } = results[workload.label]
      console.log(`| ${workload.label} | ${n(ds.perSecond)} | ${f(ds.serverMicros)} | ${n(pb.perSecond)} | ${f(pb.serverMicros)} | ${f(pb.generatorMicros)} | ${n(pb.bytes)} | ${n(nt.perSecond)} | ${f(nt.serverMicros)} | ${f(nt.generatorMicros)} | ${n(nt.bytes)} | ${f(nt.perSecond / pb.perSecond)} | ${f(nt.serverMicros / pb.serverMicros)} |`)
    }
    const codecs = codecTable()
    console.log(`\nThe codecs alone, in one thread of this process (encode: message to bytes; decode: bytes to message, the native one verifying first):\n\n${codecs}`)
    saveResults('protocols', { seconds: SECONDS, results, codecs })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

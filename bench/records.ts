/**
 * Record storage benchmark: the LMDB cache against the memory cache, in one
 * run, on the same load generator.
 *
 *   npm run bench:records [-- --seconds 5 --connections 8 --depth 32]
 *
 * 1. Acknowledged writes per second: `connections` protobuf sockets keep
 *    `depth` setData writes with isWriteAck in flight each, over 1,000
 *    records per socket; each ack is followed by the next write.
 * 2. Reads per second: the same, with READ of records written before.
 * 3. Bulk head of 10,000 records, in process: LmdbRecords.headBulk (versions
 *    database only) against a get() per name (versions and values, JSON
 *    parsed), median of repeated runs.
 *
 * Each server runs in its own process through the CLI; the generator runs
 * here. Prints one table and saves JSON under bench/results/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { spawnServer, stopServer } from './lib/child-server.js'
import { ProtocolClient } from './lib/protocol-client.js'
import { closedLoop, type Rate } from './lib/closed-loop.js'
import { RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { LmdbRecords } from '../src/native-adapters/lmdb/lmdb-records.js'
import { saveResults } from './lib/report.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '8' },
    depth: { type: 'string', default: '32' },
  },
})
const SECONDS = Number(args.seconds)
const CONNECTIONS = Number(args.connections)
const DEPTH = Number(args.depth)
const RECORDS_PER_SOCKET = 1000
const LOOP = { depth: DEPTH, warmupMs: 1000, seconds: SECONDS }
const PAYLOAD = { title: 'benchmark record', tags: ['a', 'b', 'c'], body: 'x'.repeat(160) }

const recordName = (socket: number, sequence: number): string => `bench/${socket}/${sequence % RECORDS_PER_SOCKET}`

async function measureServer (cache: Record<string, unknown>, work: string): Promise<{ writes: Rate, reads: Rate }> {
  const configFile = join(work, `config-${String(cache.type)}.yml`)
  writeFileSync(configFile, `logLevel: INFO\ncache: ${JSON.stringify(cache)}\nstorage: { type: none }\n`)
  const server = await spawnServer(configFile, ['--log-level', 'info'])
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => ProtocolClient.login(server.port)))
  try {
    const data = JSON.stringify(PAYLOAD)
    const writes = await closedLoop(clients, LOOP, (socket, sequence) => ({
      topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: recordName(socket, sequence), version: -1, data, isWriteAck: true, correlationId: String(sequence),
    }), (m) => m.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT)
    const reads = await closedLoop(clients, LOOP, (socket, sequence) => ({
      topic: TOPIC.RECORD, action: RECORD_ACTION.READ, name: recordName(socket, sequence),
    }), (m) => m.action === RECORD_ACTION.READ_RESPONSE)
    return { writes, reads }
  } finally {
    await Promise.all(clients.map((client) => client.close()))
    await stopServer(server)
  }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Milliseconds for one bulk head of 10,000 names through versions only, and for reading the same records. */
async function measureBulkHead (work: string): Promise<{ headBulkMs: number, readValuesMs: number }> {
  const records = new LmdbRecords({ path: join(work, 'bulk') })
  await records.whenReady()
  try {
    const names = Array.from({ length: 10_000 }, (_, i) => `bulk/${i}`)
    await Promise.all(names.map((name, i) => records.set(name, i + 1, { ...PAYLOAD, i })))
    const head: number[] = []
    const read: number[] = []
    for (let run = 0; run < 21; run++) {
      let start = performance.now()
      const { versions } = await records.headBulk(names)
      head.push(performance.now() - start)
      start = performance.now()
      const all: Record<string, number> = {}
      for (const name of names) all[name] = (await records.get(name))?.version ?? -1
      read.push(performance.now() - start)
      if (Object.keys(versions).length !== names.length || Object.keys(all).length !== names.length) throw new Error('bulk head lost names')
    }
    return { headBulkMs: median(head), readValuesMs: median(read) }
  } finally {
    await records.close()
  }
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-records-'))
  try {
    console.log(`record bench: ${CONNECTIONS} sockets x ${DEPTH} in flight, ${SECONDS} s per measure, ${JSON.stringify(PAYLOAD).length}-byte records`)
    const memory = await measureServer({ type: 'memory' }, work)
    const lmdb = await measureServer({ type: 'lmdb', options: { path: join(work, 'data') } }, work)
    const bulk = await measureBulkHead(work)
    const rows = [
      ['acked writes/s', memory.writes.perSecond, lmdb.writes.perSecond],
      ['reads/s', memory.reads.perSecond, lmdb.reads.perSecond],
    ] as const
    console.log('\n| measure | memory cache | lmdb cache | lmdb / memory |')
    console.log('| --- | ---: | ---: | ---: |')
    for (const [label, base, candidate] of rows) {
      console.log(`| ${label} | ${Math.round(base).toLocaleString('en')} | ${Math.round(candidate).toLocaleString('en')} | ${(candidate / base).toFixed(2)} |`)
    }
    console.log('\n| 10,000 records, lmdb | versions only (headBulk) | versions + values (get each) | speed-up |')
    console.log('| --- | ---: | ---: | ---: |')
    console.log(`| median of 21 runs | ${bulk.headBulkMs.toFixed(2)} ms | ${bulk.readValuesMs.toFixed(2)} ms | ${(bulk.readValuesMs / bulk.headBulkMs).toFixed(1)}x |`)
    const errors = memory.writes.errors + memory.reads.errors + lmdb.writes.errors + lmdb.reads.errors
    if (errors > 0) console.log(`\n${errors} error replies were received: the figures above are not clean`)
    saveResults('records', { seconds: SECONDS, connections: CONNECTIONS, depth: DEPTH, memory, lmdb, bulk })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

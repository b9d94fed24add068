/**
 * riptide against @deepstream/server 7.0.2, same machine, same run, same
 * load generator (worker threads speaking deepstream's protobuf protocol):
 *
 *   npm run bench [-- --seconds 5]
 *
 * Scenarios, each on both servers:
 * - event fan-out, 1 publisher to 100 subscribers: maximum deliveries/s;
 * - the same at a fixed rate of half deepstream's maximum: delivery latency
 *   percentiles, corrected for coordinated omission;
 * - event fan-out to 1,000 subscribers: maximum deliveries/s;
 * - 10,000 topics x 10 subscribers each, one publisher cycling through them;
 * - acknowledged record writes/s (8 sockets x 32 in flight over 8,000 records);
 * - record writes (acknowledged; riptide's in LMDB, durable; deepstream's in
 *   memory) with 100 subscribers: updates delivered/s and their latency;
 * - RPC round trips/s (1 provider, 4 requesters x 16 in flight);
 * - connection storm: 5,000 logins, 100 at a time: logins/s, and server
 *   memory per idle connection.
 * - the HTTP endpoints under autocannon (bench/http.ts).
 * Prints one table with both results and the ratio; saves JSON under bench/results/.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ProtocolClient } from './lib/protocol-client.js'
import { rssMiB, startDeepstream, startRiptide, type Target } from './lib/targets.js'
import { httpBench } from './http.js'
import type { LoadReport } from './lib/load-worker.js'
import { ACKED_WRITES, FAN_OUT_1000, fanOut100, jobsFor, MANY_TOPICS, measuredReports, RECORD_UPDATES, RPC, type Workload } from './lib/workloads.js'
import { load, merged } from './lib/load.js'
import { progress, saveResults } from './lib/report.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } })
const SECONDS = Number(args.seconds)

/** Runs a workload once; its measured reports. */
async function run (target: Target, workload: Workload, name: string): Promise<LoadReport[]> {
  return measuredReports(workload, await load(jobsFor(workload, `${name}-${Date.now()}`, target.port, SECONDS)))
}

const perSecond = (reports: LoadReport[]): number => reports.reduce((sum, report) => sum + report.count, 0) / SECONDS

async function fanOut (target: Target, rate: number): Promise<{ perSecond: number, p50: number, p99: number, p999: number }> {
  const reports = await run(target, fanOut100(rate), `fan-${rate}`)
  const histogram = merged(reports)
  return { perSecond: perSecond(reports), p50: histogram.getValueAtPercentile(50), p99: histogram.getValueAtPercentile(99), p999: histogram.getValueAtPercentile(99.9) }
}

async function recordWrites (target: Target): Promise<{ perSecond: number, p99: number }> {
  const reports = await run(target, RECORD_UPDATES, 'record')
  return { perSecond: perSecond(reports), p99: merged(reports).getValueAtPercentile(99) }
}

async function rpc (target: Target): Promise<{ perSecond: number, p99: number }> {
  const reports = await run(target, RPC, 'rpc')
  return { perSecond: perSecond(reports), p99: merged(reports).getValueAtPercentile(99) }
}

async function storm (target: Target): Promise<{ loginsPerSecond: number, kibPerConnection: number }> {
  const before = rssMiB(target.pid)
  const clients: ProtocolClient[] = []
  const started = performance.now()
  for (let batch = 0; batch < 50; batch++) clients.push(...await Promise.all(Array.from({ length: 100 }, () => ProtocolClient.login(target.port))))
  const seconds = (performance.now() - started) / 1000
  await new Promise((done) => setTimeout(done, 2000))
  const after = rssMiB(target.pid)
  await Promise.all(clients.map((client) => client.close()))
  return { loginsPerSecond: clients.length / seconds, kibPerConnection: ((after - before) * 1024) / clients.length }
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-compare-'))
  const results: Record<string, Record<string, number>> = {}
  const steps = 17
  let step = 0
  try {
    for (const start of [startDeepstream, startRiptide]) {
      const target = await start(work)
      try {
        const row: Record<string, number> = {}
        progress(step++, steps, `${target.name}: event fan-out, maximum`)
        const max = await fanOut(target, 0)
        row.fanOutDeliveries = max.perSecond
        progress(step++, steps, `${target.name}: event fan-out, fixed rate`)
        // Half of deepstream's maximum, in publishes per second, for both servers.
        const rate = Math.max(10, Math.round((results['deepstream 7.0.2']?.fanOutDeliveries ?? max.perSecond) / 100 / 2))
        const fixed = await fanOut(target, rate)
        Object.assign(row, { fixedRate: rate, fixedP50: fixed.p50, fixedP99: fixed.p99, fixedP999: fixed.p999 })
        progress(step++, steps, `${target.name}: event fan-out to 1,000`)
        row.fanOutDeliveries1000 = perSecond(await run(target, FAN_OUT_1000, 'fan-1000'))
        progress(step++, steps, `${target.name}: 10,000 topics x 10 subscribers`)
        row.manyTopicsDeliveries = perSecond(await run(target, MANY_TOPICS, 'topics'))
        progress(step++, steps, `${target.name}: acknowledged record writes`)
        row.ackedWrites = perSecond(await run(target, ACKED_WRITES, 'acked'))
        progress(step++, steps, `${target.name}: record writes with subscribers`)
        const writes = await recordWrites(target)
        Object.assign(row, { recordDeliveries: writes.perSecond, recordP99: writes.p99 })
        progress(step++, steps, `${target.name}: rpc round trips`)
        const calls = await rpc(target)
        Object.assign(row, { rpcPerSecond: calls.perSecond, rpcP99: calls.p99 })
        results[target.name] = row
      } finally {
        await target.stop()
      }
      // A fresh server for the storm, so its memory is not what earlier scenarios left behind.
      progress(step++, steps, `${target.name}: connection storm`)
      const fresh = await start(work)
      try {
        await new Promise((done) => setTimeout(done, 1000))
        const connections = await storm(fresh)
        Object.assign(results[target.name], { loginsPerSecond: connections.loginsPerSecond, kibPerConnection: connections.kibPerConnection })
      } finally {
        await fresh.stop()
      }
    }
    progress(steps - 1, steps, 'HTTP endpoints (autocannon)')
    const http = await httpBench()
    progress(steps, steps, 'done')
    const ds = results['deepstream 7.0.2']
    const rt = results.riptide
    const rows: Array<[string, number, number, 'higher' | 'lower', string]> = [
      ['event fan-out, deliveries/s (100 subscribers)', ds.fanOutDeliveries, rt.fanOutDeliveries, 'higher', 'x'],
      [`delivery p50 at ${rt.fixedRate} publishes/s, µs`, ds.fixedP50, rt.fixedP50, 'lower', 'x'],
      [`delivery p99 at ${rt.fixedRate} publishes/s, µs`, ds.fixedP99, rt.fixedP99, 'lower', 'x'],
      [`delivery p99.9 at ${rt.fixedRate} publishes/s, µs`, ds.fixedP999, rt.fixedP999, 'lower', 'x'],
      ['event fan-out, deliveries/s (1,000 subscribers)', ds.fanOutDeliveries1000, rt.fanOutDeliveries1000, 'higher', 'x'],
      ['10,000 topics x 10 subscribers, deliveries/s', ds.manyTopicsDeliveries, rt.manyTopicsDeliveries, 'higher', 'x'],
      ['acknowledged record writes/s (riptide durable in LMDB, deepstream in memory)', ds.ackedWrites, rt.ackedWrites, 'higher', 'x'],
      ['record updates delivered/s (1 writer, acked, 100 subscribers)', ds.recordDeliveries, rt.recordDeliveries, 'higher', 'x'],
      ['record update delivery p99, µs', ds.recordP99, rt.recordP99, 'lower', 'x'],
      ['rpc round trips/s', ds.rpcPerSecond, rt.rpcPerSecond, 'higher', 'x'],
      ['rpc round trip p99, µs', ds.rpcP99, rt.rpcP99, 'lower', 'x'],
      ['logins/s (5,000, 100 at a time)', ds.loginsPerSecond, rt.loginsPerSecond, 'higher', 'x'],
      ['server memory per idle connection, KiB', ds.kibPerConnection, rt.kibPerConnection, 'lower', 'x'],
    ]
    console.log('\n\n| measure | deepstream 7.0.2 | riptide | riptide / deepstream |')
    console.log('| --- | ---: | ---: | ---: |')
    for (const [label, a, b] of rows) console.log(`| ${label} | ${Math.round(a).toLocaleString('en')} | ${Math.round(b).toLocaleString('en')} | ${(b / a).toFixed(2)} |`)
    console.log(`\n${http}`)
    saveResults('compare', { seconds: SECONDS, results, http })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

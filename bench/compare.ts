/**
 * riptide against @deepstream/server 7.0.2, same machine, same run, same
 * load generator (worker threads speaking deepstream's protobuf protocol):
 *
 *   npm run bench [-- --seconds 5]
 *
 * Servers, one after another: deepstream 7.0.2 on uWebSockets.js (its fastest
 * configuration, the baseline of every ratio), deepstream on its default Node
 * http + ws, riptide with its defaults (a worker per core), riptide with
 * one worker (per-core efficiency), and Socket.IO 4.8 on uWebSockets.js
 * (what most Node users pick; event scenarios only, through socket.io-client).
 *
 * Scenarios, each on every server:
 * - event fan-out, 1 publisher to 100 subscribers: maximum deliveries/s;
 * - the same at a fixed rate of half the baseline's maximum: delivery latency
 *   percentiles, corrected for coordinated omission;
 * - event fan-out to 1,000 subscribers: maximum deliveries/s;
 * - 10,000 topics x 10 subscribers each, one publisher cycling through them;
 * - acknowledged record writes/s (8 sockets x 32 in flight over 8,000 records);
 * - record writes (acknowledged; riptide's in LMDB, durable; deepstream's in
 *   memory) with 100 subscribers: updates delivered/s, and their latency at a
 *   fixed rate of half the baseline's maximum;
 * - RPC round trips/s (1 provider, 4 requesters x 16 in flight);
 * - connection storm: 5,000 logins, 100 at a time: logins/s, and server
 *   memory per idle connection.
 * - the HTTP endpoints under autocannon (bench/http.ts);
 * - the same app code on @deepstream/client (against deepstream on uWS and against riptide) and on
 *   riptide/client's DeepstreamClient (against riptide): event fan-out, record updates and RPC
 *   (bench/lib/app-load.ts; `npm run bench:app` runs it alone).
 * Beside each throughput, the server's CPU time (all its threads) per message
 * delivered in the measured window: it does not depend on how fast the
 * generator is. Prints the tables; saves JSON (with the command, commit, Node
 * version and CPU) under bench/results/.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loginStorm, rssMiB, startDeepstream, startRiptide, startSocketIo, type Target } from './lib/targets.js'
import { httpBench } from './http.js'
import { ACKED_WRITES, FAN_OUT_1000, fanOut100, MANY_TOPICS, measure, RECORD_UPDATES, recordUpdates, RPC, type Measured, type Workload } from './lib/workloads.js'
import { merged } from './lib/load.js'
import { progress, ratio, saveResults } from './lib/report.js'
import { loneCommit, loneCommitLine } from './lib/lone-commit.js'
import { APP_CLIENTS, APP_ROWS, appScenarios, appTable, type AppClientKind, type AppMeasured } from './lib/app-load.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } })
const SECONDS = Number(args.seconds)

/** Runs a workload once, measuring the server process's CPU over the measured window. */
const run = (target: Target, workload: Workload, name: string): Promise<Measured> => measure(target, workload, name, SECONDS)

const percentile = (measured: Measured, p: number): number => merged(measured.reports).getValueAtPercentile(p)

async function storm (target: Target): Promise<{ loginsPerSecond: number, loginMicros: number, kibPerConnection: number }> {
  const before = rssMiB(target.pid)
  const { clients, seconds, serverCpuSeconds } = await loginStorm(target)
  await new Promise((done) => setTimeout(done, 2000))
  const after = rssMiB(target.pid)
  await Promise.all(clients.map((client) => client.close()))
  return { loginsPerSecond: clients.length / seconds, loginMicros: (serverCpuSeconds * 1e6) / clients.length, kibPerConnection: ((after - before) * 1024) / clients.length }
}

/** The servers, and the client libraries the app scenarios run on against each. */
const TARGETS: Array<{ start: (work: string) => Promise<Target>, app: readonly AppClientKind[] }> = [
  { start: (work) => startDeepstream(work, 'uws'), app: ['@deepstream/client'] },
  { start: (work) => startDeepstream(work, 'default'), app: [] },
  { start: (work) => startRiptide(work), app: APP_CLIENTS },
  { start: (work) => startRiptide(work, 1), app: [] },
  { start: () => startSocketIo(), app: [] },
]

/** Every scenario on one server: its row of figures. */
async function scenarios (target: Target, baseline: Record<string, number> | undefined, step: (label: string) => void): Promise<Record<string, number>> {
  const row: Record<string, number> = {}
  const record = (key: string, measured: Measured): void => {
    row[key] = measured.perSecond
    row[`${key}Micros`] = measured.serverMicros
  }
  step('event fan-out, maximum')
  const max = await run(target, fanOut100(0), 'fan-max')
  record('fanOutDeliveries', max)
  step('event fan-out, fixed rate')
  // Half of the baseline's maximum, in publishes per second, for every server.
  const rate = Math.max(10, Math.round((baseline?.fanOutDeliveries ?? max.perSecond) / 100 / 2))
  const fixed = await run(target, fanOut100(rate), `fan-${rate}`)
  Object.assign(row, { fixedRate: rate, fixedP50: percentile(fixed, 50), fixedP99: percentile(fixed, 99), fixedP999: percentile(fixed, 99.9) })
  step('event fan-out to 1,000')
  record('fanOutDeliveries1000', await run(target, FAN_OUT_1000, 'fan-1000'))
  step('10,000 topics x 10 subscribers')
  record('manyTopicsDeliveries', await run(target, MANY_TOPICS, 'topics'))
  if (target.eventsOnly === true) return row
  step('acknowledged record writes')
  record('ackedWrites', await run(target, ACKED_WRITES, 'acked'))
  step('record writes with subscribers')
  record('recordDeliveries', await run(target, RECORD_UPDATES, 'record'))
  // Latency at a fixed rate, half of the baseline's maximum: at each server's own maximum it would
  // measure how far the subscribers' reading falls behind.
  const writeRate = Math.max(10, Math.round((baseline?.recordDeliveries ?? row.recordDeliveries) / 100 / 2))
  const paced = await run(target, recordUpdates(writeRate), `record-${writeRate}`)
  Object.assign(row, { recordRate: writeRate, recordP99: percentile(paced, 99) })
  step('rpc round trips')
  const calls = await run(target, RPC, 'rpc')
  record('rpcPerSecond', calls)
  row.rpcP99 = percentile(calls, 99)
  return row
}

/** A figure for the table: whole above 100, one decimal below (memory per connection in KiB). */
const figure = (value: number): string => (!Number.isFinite(value) ? '-' : value >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(1))
const micros = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '-')

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-compare-'))
  const results: Record<string, Record<string, number>> = {}
  const app: Record<string, Record<string, AppMeasured>> = {}
  const names: string[] = []
  const steps = TARGETS.length * 8 + 1 + TARGETS.reduce((sum, { app: kinds }) => sum + kinds.length * APP_ROWS.length, 0)
  let step = 0
  try {
    for (const { start, app: kinds } of TARGETS) {
      const target = await start(work)
      names.push(target.name)
      try {
        results[target.name] = await scenarios(target, results[names[0]], (label) => progress(step++, steps, `${target.name}: ${label}`, 60))
        if (kinds.length > 0) app[target.name] = await appScenarios(target, kinds, SECONDS, (label) => progress(step++, steps, label, 60))
      } finally {
        await target.stop()
      }
      // A fresh server for the storm, so its memory is not what earlier scenarios left behind.
      progress(step++, steps, `${target.name}: connection storm`, 60)
      if (target.eventsOnly === true) continue
      const fresh = await start(work)
      try {
        await new Promise((done) => setTimeout(done, 1000))
        Object.assign(results[target.name], await storm(fresh))
      } finally {
        await fresh.stop()
      }
    }
    progress(steps - 1, steps, 'HTTP endpoints (autocannon)', 60)
    const http = await httpBench()
    progress(steps, steps, 'done', 60)
    const [baseline] = names
    const rate = results[names[2]].fixedRate
    const writeRate = results[names[2]].recordRate
    // label, figure, CPU figure (for throughputs), and the CPU table's short label.
    const rows: Array<[string, string, string | null, string]> = [
      ['event fan-out, deliveries/s (100 subscribers)', 'fanOutDeliveries', 'fanOutDeliveriesMicros', 'event fan-out to 100, per delivery'],
      [`delivery p50 at ${rate} publishes/s, µs`, 'fixedP50', null, ''],
      [`delivery p99 at ${rate} publishes/s, µs`, 'fixedP99', null, ''],
      [`delivery p99.9 at ${rate} publishes/s, µs`, 'fixedP999', null, ''],
      ['event fan-out, deliveries/s (1,000 subscribers)', 'fanOutDeliveries1000', 'fanOutDeliveries1000Micros', 'event fan-out to 1,000, per delivery'],
      ['10,000 topics x 10 subscribers, deliveries/s', 'manyTopicsDeliveries', 'manyTopicsDeliveriesMicros', '10,000 topics, per delivery'],
      ['acknowledged record writes/s (riptide durable in LMDB, deepstream in memory)', 'ackedWrites', 'ackedWritesMicros', 'acknowledged record writes, per write'],
      ['record updates delivered/s (1 writer, acked, 100 subscribers)', 'recordDeliveries', 'recordDeliveriesMicros', 'record updates, per delivery'],
      [`record update delivery p99 at ${writeRate} writes/s, µs`, 'recordP99', null, ''],
      ['rpc round trips/s', 'rpcPerSecond', 'rpcPerSecondMicros', 'rpc, per round trip'],
      ['rpc round trip p99, µs', 'rpcP99', null, ''],
      ['logins/s (5,000, 100 at a time)', 'loginsPerSecond', 'loginMicros', 'logins, per login'],
      ['server memory per idle connection, KiB', 'kibPerConnection', null, ''],
    ]
    console.log(`\n\nRatios are against ${baseline}. µs: the server's CPU time per message delivered (all threads).\n`)
    console.log(`| measure | ${names.join(' | ')} | ${names.slice(1).map((name) => `${name} / baseline`).join(' | ')} |`)
    console.log(`| --- |${' ---: |'.repeat(names.length * 2 - 1)}`)
    for (const [label, key] of rows) {
      const values = names.map((name) => results[name][key])
      console.log(`| ${label} | ${values.map(figure).join(' | ')} | ${values.slice(1).map((value) => ratio(value, values[0])).join(' | ')} |`)
    }
    console.log(`\n| server CPU µs | ${names.join(' | ')} |`)
    console.log(`| --- |${' ---: |'.repeat(names.length)}`)
    for (const [, , microsKey, short] of rows) {
      if (microsKey !== null) console.log(`| ${short} | ${names.map((name) => micros(results[name][microsKey])).join(' | ')} |`)
    }
    const lone = await loneCommit()
    console.log(`\n${appTable(app)}\n\n${loneCommitLine(lone)}`)
    console.log(`\n${http}`)
    saveResults('compare', { seconds: SECONDS, baseline, results, app, loneCommit: lone, http })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

/**
 * How far below deepstream a server on uWebSockets.js can go at all, per message:
 *
 *   npm run bench:floor [-- --seconds 5]
 *
 * Runs the workloads of `npm run bench` against deepstream 7.0.2 on uWS, riptide on 1 worker and
 * with its defaults, and the floor (lib/floor-server.ts: the least JavaScript a
 * deepstream-compatible server on uWS runs per message, on one thread, with no feature beyond
 * relaying). It prints each server's rate and CPU µs per message, and two ratios of CPU per
 * message: deepstream's over the floor's (the most that any server built this way could gain on
 * deepstream here, where the generator takes one of the 2 cores and the server gets the other)
 * and riptide's over the floor's (what riptide's features cost on top). Then the delivery latency of
 * fan-out to 100 at half of deepstream's maximum (as `npm run bench` measures it): the floor's is
 * what the generator and this machine add to any server's.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loginStorm, startDeepstream, startFloor, startRiptide, type Target } from './lib/targets.js'
import { ACKED_WRITES, FAN_OUT_1000, fanOut100, MANY_TOPICS, measure, RECORD_UPDATES, RPC, type Workload } from './lib/workloads.js'
import { progress, ratio, saveResults } from './lib/report.js'
import { merged } from './lib/load.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } })
const SECONDS = Number(args.seconds)

const WORKLOADS: Array<[string, Workload]> = [
  ['event fan-out to 100, per delivery', fanOut100(0)],
  ['event fan-out to 1,000, per delivery', FAN_OUT_1000],
  ['10,000 topics x 10 subscribers, per delivery', MANY_TOPICS],
  ['acknowledged record writes, per write (riptide durable)', ACKED_WRITES],
  ['record updates to 100 subscribers, per delivery', RECORD_UPDATES],
  ['RPC, per round trip', RPC],
]
const TARGETS: Array<(work: string) => Promise<Target>> = [
  (work) => startDeepstream(work, 'uws'),
  (work) => startRiptide(work, 1),
  (work) => startRiptide(work),
  () => startFloor(),
]

interface Cell { perSecond: number, micros: number, generatorMicros: number }
/** Delivery latency of fan-out to 100 at a fixed rate, ms. */
interface Latency { p50: number, p99: number, p999: number }

const rate = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en') : '-')
const micros = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '-')

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-floor-'))
  const names: string[] = []
  const cells: Record<string, Record<string, Cell>> = {}
  const latencies: Record<string, Latency> = {}
  // As in `npm run bench`: publishes at half of the first target's (deepstream's) maximum.
  let fixedRate = 0
  const steps = TARGETS.length * (WORKLOADS.length + 2)
  let step = 0
  try {
    for (const start of TARGETS) {
      const target = await start(work)
      names.push(target.name)
      const row: Record<string, Cell> = {}
      cells[target.name] = row
      try {
        for (const [label, workload] of WORKLOADS) {
          progress(step++, steps, `${target.name}: ${label}`, 72)
          const measured = await measure(target, workload, 'floor', SECONDS)
          row[label] = { perSecond: measured.perSecond, micros: measured.serverMicros, generatorMicros: measured.generatorMicros }
        }
        fixedRate ||= Math.max(10, Math.round(row[WORKLOADS[0][0]].perSecond / 100 / 2))
        progress(step++, steps, `${target.name}: fan-out to 100 at ${fixedRate} publishes/s`, 72)
        const paced = merged((await measure(target, fanOut100(fixedRate), 'floor-paced', SECONDS)).reports)
        latencies[target.name] = { p50: paced.getValueAtPercentile(50) / 1000, p99: paced.getValueAtPercentile(99) / 1000, p999: paced.getValueAtPercentile(99.9) / 1000 }
        progress(step++, steps, `${target.name}: logins`, 72)
        const storm = await loginStorm(target)
        await Promise.all(storm.clients.map((client) => client.close()))
        row['logins, per login'] = { perSecond: storm.clients.length / storm.seconds, micros: (storm.serverCpuSeconds * 1e6) / storm.clients.length, generatorMicros: Number.NaN }
      } finally {
        await target.stop()
      }
    }
    progress(steps, steps, 'done', 72)
    const [deepstream, riptide1, riptide, floor] = names
    console.log(`\n\nper second · server CPU µs per message; ${SECONDS} s per measure. Ratios are of CPU µs per message.\n`)
    console.log(`| measure | ${names.join(' | ')} | ${deepstream} / floor | ${riptide1} / floor | ${riptide} / floor |`)
    console.log(`| --- |${' ---: |'.repeat(names.length + 3)}`)
    for (const label of Object.keys(cells[floor])) {
      const cell = (name: string): Cell => cells[name][label]
      const shown = names.map((name) => `${rate(cell(name).perSecond)} · ${micros(cell(name).micros)}`)
      const over = (name: string): string => ratio(cell(name).micros, cell(floor).micros)
      console.log(`| ${label} | ${shown.join(' | ')} | ${over(deepstream)} | ${over(riptide1)} | ${over(riptide)} |`)
    }
    console.log(`\n| generator CPU µs per message | ${names.join(' | ')} |\n| --- |${' ---: |'.repeat(names.length)}`)
    for (const [label] of WORKLOADS) console.log(`| ${label} | ${names.map((name) => micros(cells[name][label].generatorMicros)).join(' | ')} |`)
    // The floor's latency is what the generator and this machine add to any server's.
    console.log(`\n| delivery latency, fan-out to 100 at ${fixedRate} publishes/s, ms | ${names.join(' | ')} |\n| --- |${' ---: |'.repeat(names.length)}`)
    for (const [label, key] of [['p50', 'p50'], ['p99', 'p99'], ['p99.9', 'p999']] as const) {
      console.log(`| ${label} | ${names.map((name) => latencies[name][key].toFixed(2)).join(' | ')} |`)
    }
    saveResults('floor', { seconds: SECONDS, cells, fixedRate, latencies })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

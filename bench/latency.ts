/**
 * Delivery latency at a fixed, moderate rate, repeated, to catch stalls that
 * one run can miss:
 *
 *   npm run bench:latency [-- --runs 5 --seconds 5 --rate 500 --generator protobuf|client]
 *
 * `protobuf` (default): one publisher emits `rate` events per second on a
 * fixed schedule to 100 subscribers (the load generator's threads, lean
 * protobuf clients). `client`: `@deepstream/client` 7 itself, 50 subscribers
 * and 2 publishers sharing `rate` (bench/lib/client-load.ts), as issue 13's
 * report measured it. Latency is corrected for coordinated omission. Servers, each for every run: deepstream 7.0.2 on
 * uWS (the baseline), riptide with 2 workers (its default here) and riptide
 * with 1 worker. Prints every run's percentiles, then each server's worst
 * p99 and the ratio of riptide's 2-worker p99 to its 1-worker p99, run by run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startDeepstream, startRiptide, type Target } from './lib/targets.js'
import { fanOut100, jobsFor, measuredReports } from './lib/workloads.js'
import { merged, runLoad } from './lib/load.js'
import { saveResults } from './lib/report.js'
import { clientFanOutLatency } from './lib/client-load.js'

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' }, rate: { type: 'string', default: '' }, generator: { type: 'string', default: 'protobuf' } } })
const RUNS = Number(args.runs)
const SECONDS = Number(args.seconds)
const CLIENT = args.generator === 'client'
if (!CLIENT && args.generator !== 'protobuf') throw new Error('--generator: protobuf or client')
const RATE = args.rate === '' ? (CLIENT ? 1000 : 500) : Number(args.rate)
const SUBSCRIBERS = CLIENT ? 50 : 100

interface Percentiles { p50: number, p99: number, p999: number, max: number, deliveries: number }

async function once (target: Target, run: number): Promise<Percentiles> {
  if (CLIENT) {
    const { histogram, deliveries } = await clientFanOutLatency(target, RATE, SECONDS)
    const ms = (p: number): number => histogram.getValueAtPercentile(p) / 1000
    return { p50: ms(50), p99: ms(99), p999: ms(99.9), max: histogram.maxValue / 1000, deliveries }
  }
  const workload = fanOut100(RATE)
  const result = await runLoad(jobsFor(workload, `latency-${run}-${Date.now()}`, target.port, SECONDS), target.pid)
  const reports = measuredReports(workload, result.reports)
  const histogram = merged(reports)
  const ms = (p: number): number => histogram.getValueAtPercentile(p) / 1000
  return { p50: ms(50), p99: ms(99), p999: ms(99.9), max: histogram.maxValue / 1000, deliveries: reports.reduce((sum, report) => sum + report.count, 0) }
}

const TARGETS: Array<{ label: string, start: (work: string) => Promise<Target> }> = [
  { label: 'deepstream 7.0.2 (uWS)', start: (work) => startDeepstream(work, 'uws') },
  { label: 'riptide, 2 workers', start: (work) => startRiptide(work, 2) },
  { label: 'riptide, 1 worker', start: (work) => startRiptide(work, 1) },
]

const work = mkdtempSync(join(tmpdir(), 'riptide-bench-latency-'))
const results: Record<string, Percentiles[]> = {}
try {
  for (const { label, start } of TARGETS) {
    const target = await start(work)
    results[label] = []
    try {
      for (let run = 0; run < RUNS; run++) {
        const measured = await once(target, run)
        results[label].push(measured)
        process.stderr.write(`${label}, run ${run + 1}: p99 ${measured.p99.toFixed(2)} ms\n`)
      }
    } finally {
      await target.stop()
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

const f = (ms: number): string => ms.toFixed(2)
console.log(`\nDelivery latency, ${RATE} publishes/s to ${SUBSCRIBERS} subscribers (${RATE * SUBSCRIBERS} deliveries/s), ${CLIENT ? '@deepstream/client' : 'protobuf load workers'}, ${RUNS} runs of ${SECONDS} s, ms\n`)
console.log('| server | run | p50 | p99 | p99.9 | max | deliveries |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const [label, runs] of Object.entries(results)) {
  runs.forEach((r, i) => console.log(`| ${label} | ${i + 1} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.p999)} | ${f(r.max)} | ${r.deliveries.toLocaleString('en')} |`))
}
const two = results['riptide, 2 workers']
const one = results['riptide, 1 worker']
console.log('\n| summary | worst p99 | worst p99.9 |')
console.log('| --- | ---: | ---: |')
for (const [label, runs] of Object.entries(results)) {
  console.log(`| ${label} | ${f(Math.max(...runs.map((r) => r.p99)))} | ${f(Math.max(...runs.map((r) => r.p999)))} |`)
}
console.log(`\np99 of 2 workers / p99 of 1 worker, run by run: ${two.map((r, i) => (r.p99 / one[i].p99).toFixed(2)).join(', ')}`)
saveResults('latency', { generator: CLIENT ? 'client' : 'protobuf', runs: RUNS, seconds: SECONDS, rate: RATE, results })

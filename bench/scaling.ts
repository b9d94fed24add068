/**
 * What a second worker costs and buys: the workloads of `npm run bench` against riptide with 1
 * worker and with N (all cores by default), in one run.
 *
 *   npm run bench:scaling [-- --seconds 5 --workers 2]
 *
 * Beside each rate it prints the server's CPU per message, split into user and system time, and
 * its context switches per message: every voluntary switch is a thread going to sleep because it
 * ran out of work, and the wake-up that follows costs system time in the thread that wakes it.
 * A worker that is not kept busy pays those per message instead of per batch of messages.
 *
 * Each server runs through the CLI in its own process and serves the workloads one after another
 * (warming up as `npm run bench` does); the load generator runs in this process and shares the
 * machine's cores with the server.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startRiptide, type Target } from './lib/targets.js'
import { processCounters, runLoad, type ProcessCounters } from './lib/load.js'
import { ACKED_WRITES, FAN_OUT_1000, fanOut100, jobsFor, measuredReports, RECORD_UPDATES, RPC, type Workload } from './lib/workloads.js'
import { cannon, CASES } from './http.js'
import { saveResults } from './lib/report.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    workers: { type: 'string', default: String(availableParallelism()) },
  },
})
const SECONDS = Number(args.seconds)
const MANY = Number(args.workers)

interface Figures { perSecond: number, userMicros: number, systemMicros: number, switches: number }

/** A measure: runs its load against `target` and returns how many messages it counted, with the server's counters over exactly that window. */
type Measure = (target: Target) => Promise<{ count: number, counters: ProcessCounters }>

function figures (count: number, counters: ProcessCounters): Figures {
  return {
    perSecond: count / SECONDS,
    userMicros: (counters.user * 1e6) / count,
    systemMicros: (counters.system * 1e6) / count,
    switches: counters.switches / count,
  }
}

function difference (after: ProcessCounters, before: ProcessCounters): ProcessCounters {
  return { user: after.user - before.user, system: after.system - before.system, switches: after.switches - before.switches }
}

function loadMeasure (workload: Workload): Measure {
  return async (target) => {
    // Read as the measured window starts and as it ends.
    const edges: ProcessCounters[] = []
    const run = await runLoad(jobsFor(workload, `scaling-${Date.now()}`, target.port, SECONDS), 0, async () => { edges.push(processCounters(target.pid)) })
    const count = measuredReports(workload, run.reports).reduce((sum, report) => sum + report.count, 0)
    return { count, counters: difference(edges[1], edges[0]) }
  }
}

function httpMeasure (one: typeof CASES[number]): Measure {
  return async (target) => {
    await cannon(target.port, one, 1) // warm-up
    const before = processCounters(target.pid)
    const result = await cannon(target.port, one, SECONDS)
    return { count: result.requests.total, counters: difference(processCounters(target.pid), before) }
  }
}

const MEASURES: Array<[string, Measure]> = [
  ['event fan-out to 100, deliveries', loadMeasure(fanOut100())],
  ['event fan-out to 1,000, deliveries', loadMeasure(FAN_OUT_1000)],
  ['acknowledged record writes, writes', loadMeasure(ACKED_WRITES)],
  ['record updates to 100 subscribers, deliveries', loadMeasure(RECORD_UPDATES)],
  ['RPC, round trips', loadMeasure(RPC)],
  ['HTTP JIF event emit, requests', httpMeasure(CASES[1])],
  ['HTTP JIF write of one record, requests', httpMeasure(CASES[2])],
]

async function measureAll (workers: number, work: string): Promise<Figures[]> {
  const target = await startRiptide(work, workers)
  try {
    const all: Figures[] = []
    for (const [label, measure] of MEASURES) {
      process.stderr.write(`${target.name}: ${label}\n`)
      const { count, counters } = await measure(target)
      all.push(figures(count, counters))
    }
    return all
  } finally {
    await target.stop()
  }
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-scaling-'))
  try {
    const one = await measureAll(1, work)
    const many = await measureAll(MANY, work)
    console.log(`\nriptide, 1 worker against ${MANY}, ${availableParallelism()} cores, ${SECONDS} s per measure. µs: the server's CPU per message (user + system, all threads). Switches: the server's context switches per message.\n`)
    console.log(`| measure, per second | 1 worker | ${MANY} workers | ${MANY} / 1 | µs, 1 worker | µs, ${MANY} workers | switches, 1 / ${MANY} |`)
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    MEASURES.forEach(([label], i) => {
      const [a, b] = [one[i], many[i]]
      const micros = (f: Figures): string => `${(f.userMicros + f.systemMicros).toFixed(1)} (${f.userMicros.toFixed(1)} + ${f.systemMicros.toFixed(1)})`
      console.log(`| ${label} | ${Math.round(a.perSecond).toLocaleString('en')} | ${Math.round(b.perSecond).toLocaleString('en')} | ${(b.perSecond / a.perSecond).toFixed(2)} | ${micros(a)} | ${micros(b)} | ${a.switches.toFixed(3)} / ${b.switches.toFixed(3)} |`)
    })
    saveResults('scaling', { cores: availableParallelism(), seconds: SECONDS, workers: MANY, measures: MEASURES.map(([label], i) => ({ label, one: one[i], many: many[i] })) })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

/**
 * The workloads the benchmarks drive, as load-worker jobs: `npm run bench`
 * (riptide against deepstream) and `npm run bench:protocols` (protobuf
 * against native) run the same ones, so their figures stay comparable.
 */
import type { LoadJob, LoadProtocol, LoadReport } from './load-worker.js'
import { runLoad } from './load.js'

export type Job = Omit<LoadJob, 'port' | 'warmupMs' | 'durationMs' | 'protocol'>

export interface Workload {
  readonly label: string
  readonly jobs: (name: string) => Job[]
  /** Which jobs' counts (and bytes, and histograms) are the messages of the workload. */
  readonly measured: readonly number[]
}

/** One publisher, 64 emits in flight (or `rate` per second on a fixed schedule), 100 subscribers. */
export function fanOut100 (rate = 0): Workload {
  return {
    label: 'event fan-out, 1 publisher → 100 subscribers (deliveries)',
    jobs: (name) => [
      { role: 'subscribers', count: 50, name, rate: 0, window: 0 },
      { role: 'subscribers', count: 50, name, rate: 0, window: 0 },
      { role: 'publisher', count: 1, name, rate, window: 64 },
    ],
    measured: [0, 1],
  }
}

export const FAN_OUT_1000: Workload = {
  label: 'event fan-out, 1 publisher → 1,000 subscribers (deliveries)',
  jobs: (name) => [
    { role: 'subscribers', count: 500, name, rate: 0, window: 0 },
    { role: 'subscribers', count: 500, name, rate: 0, window: 0 },
    { role: 'publisher', count: 1, name, rate: 0, window: 8 },
  ],
  measured: [0, 1],
}

/** 10,000 topics with 10 subscribers each (100 sockets × 1,000 topics), one publisher cycling through them. */
export const MANY_TOPICS: Workload = {
  label: '10,000 topics × 10 subscribers (deliveries)',
  jobs: (name) => {
    const topics = { groups: 10, size: 1000 }
    return [
      { role: 'subscribers', count: 50, name: `${name}#0`, rate: 0, window: 0, topics },
      { role: 'subscribers', count: 50, name: `${name}#1`, rate: 0, window: 0, topics },
      { role: 'publisher', count: 1, name, rate: 0, window: 64, topics },
    ]
  },
  measured: [0, 1],
}

/** One acked writer to one record (16 writes in flight, or `rate` per second on a fixed schedule), 100 subscribers. */
export function recordUpdates (rate = 0): Workload {
  return {
    label: 'record updates, 1 acked writer → 100 subscribers (deliveries)',
    jobs: (name) => [
      { role: 'record-subscribers', count: 100, name, rate: 0, window: 0 },
      { role: 'writer', count: 1, name, rate, window: 16 },
    ],
    measured: [0],
  }
}

export const RECORD_UPDATES = recordUpdates()

/** Acknowledged writes over 1,000 records per socket, nobody subscribed. */
export const ACKED_WRITES: Workload = {
  label: 'acknowledged record writes, 8 sockets × 32 in flight (writes)',
  jobs: (name) => [{ role: 'writer', count: 8, name, rate: 0, window: 32, topics: { groups: 1, size: 1000 } }],
  measured: [0],
}

export const RPC: Workload = {
  label: 'RPC, 4 requesters × 16 in flight → 1 provider (round trips)',
  jobs: (name) => [
    { role: 'provider', count: 1, name, rate: 0, window: 0 },
    { role: 'rpc', count: 4, name, rate: 0, window: 16 },
  ],
  measured: [1],
}

/** The workload's jobs against `port`, after 1 s of warm-up, for `seconds`. */
export function jobsFor (workload: Workload, name: string, port: number, seconds: number, protocol: LoadProtocol = 'protobuf'): LoadJob[] {
  return workload.jobs(name).map((job) => ({ ...job, port, warmupMs: 1000, durationMs: seconds * 1000, protocol }))
}

/** The reports of the workload's measured jobs. */
export function measuredReports (workload: Workload, reports: LoadReport[]): LoadReport[] {
  return workload.measured.map((i) => reports[i])
}

/** One workload's figures on one server: messages per second, CPU µs per message of the server and of the generator, and the reports. */
export interface Measured { perSecond: number, serverMicros: number, generatorMicros: number, reports: LoadReport[] }

/** Runs a workload once against a server (a process `pid` on `port`), measuring its CPU over the measured window. */
export async function measure (target: { port: number, pid: number, protocol?: LoadProtocol }, workload: Workload, name: string, seconds: number): Promise<Measured> {
  const run = await runLoad(jobsFor(workload, `${name}-${Date.now()}`, target.port, seconds, target.protocol), target.pid)
  const reports = measuredReports(workload, run.reports)
  const count = reports.reduce((sum, report) => sum + report.count, 0)
  const per = (cpuSeconds: number): number => (count === 0 ? Number.NaN : (cpuSeconds * 1e6) / count)
  return { perSecond: count / seconds, serverMicros: per(run.cpuSeconds), generatorMicros: per(run.generatorCpuSeconds), reports }
}

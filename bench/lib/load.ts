/**
 * Runs load-worker jobs on threads of their own, together: every job logs
 * in and arms (subscribers and providers once the server has acknowledged
 * their subscriptions), then all begin their warm-up at once; each reports
 * after its warm-up and measured window (see load-worker.ts).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import * as hdr from 'hdr-histogram-js'
import { latencyHistogram, type Histogram } from './histogram.js'
import type { LoadJob, LoadReport } from './load-worker.js'

export interface LoadRun {
  reports: LoadReport[]
  /** CPU seconds the processes `pid` used during the measured window (0 without a pid). */
  cpuSeconds: number
  /** CPU seconds this process (the load generator's threads) used in the same window. */
  generatorCpuSeconds: number
}

/** User and system CPU seconds a process has used so far, over all the threads it has had (Linux /proc). */
function cpuTimes (pid: number): { user: number, system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  // utime and stime are fields 14 and 15 of stat: 11 and 12 after the command name.
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }
}

/** User + system CPU seconds a process has used so far (Linux /proc; 0 elsewhere). */
export function cpuSeconds (pid: number): number {
  try {
    const { user, system } = cpuTimes(pid)
    return user + system
  } catch {
    return 0
  }
}

/** A process's CPU seconds, user and system, and its threads' context switches. */
export interface ProcessCounters { user: number, system: number, switches: number }

/**
 * Read from /proc: CPU time of every thread the process has had, and the context switches, voluntary
 * (a thread went to sleep) and involuntary (it was preempted), of the threads it has now.
 */
export function processCounters (pid: number): ProcessCounters {
  let switches = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8')
      for (const match of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) switches += Number(match[1])
    } catch {
      // The thread ended meanwhile.
    }
  }
  return { ...cpuTimes(pid), switches }
}

/**
 * Runs the jobs; with `pid` (or several), also measures the CPU those processes use over the jobs'
 * measured window, and calls `onWindow` as the window starts and ends (to read other counters).
 */
export async function runLoad (jobs: LoadJob[], pid: number | number[] = 0, onWindow?: (edge: 'start' | 'end') => Promise<void>): Promise<LoadRun> {
  const pids = (Array.isArray(pid) ? pid : [pid]).filter((p) => p !== 0)
  const cpuOfAll = (): number => pids.reduce((sum, p) => sum + cpuSeconds(p), 0)
  const workers = jobs.map((job) => new Worker(new URL('./load-worker.js', import.meta.url), { workerData: job }))
  const stage = (type: string): Promise<void[]> => Promise.all(workers.map((worker) => new Promise<void>((done, fail) => {
    const listen = (message: { type: string, error?: string }): void => {
      if (message.type === 'failed') fail(new Error(message.error))
      if (message.type === type) { worker.off('message', listen); done() }
    }
    worker.on('message', listen)
  })))
  await stage('ready')
  // Subscribing jobs arm once their subscriptions are acknowledged; then all begin together, so
  // that nothing is published into the void and every job's window is the same.
  const armed = stage('armed')
  for (const worker of workers) worker.postMessage('go')
  await armed
  for (const worker of workers) worker.postMessage('begin')
  const done = Promise.all(workers.map((worker) => new Promise<LoadReport>((resolve, fail) => {
    worker.on('message', (message: { type: string, report?: LoadReport, error?: string }) => {
      if (message.type === 'done' && message.report !== undefined) resolve(message.report)
      if (message.type === 'failed') fail(new Error(message.error))
    })
  })))
  let cpu = 0
  let generatorCpu = 0
  if (pids.length > 0 || onWindow !== undefined) {
    const { warmupMs, durationMs } = jobs[0]
    await sleep(warmupMs)
    await onWindow?.('start')
    const before = cpuOfAll()
    const generatorBefore = process.cpuUsage()
    await sleep(durationMs)
    cpu = cpuOfAll() - before
    const used = process.cpuUsage(generatorBefore)
    generatorCpu = (used.user + used.system) / 1e6
    await onWindow?.('end')
  }
  const reports = await done
  await Promise.all(workers.map((worker) => worker.terminate()))
  return { reports, cpuSeconds: cpu, generatorCpuSeconds: generatorCpu }
}

/** Reports only, for benches that do not measure CPU. */
export async function load (jobs: LoadJob[]): Promise<LoadReport[]> {
  return (await runLoad(jobs)).reports
}

export function merged (reports: LoadReport[]): Histogram {
  const all = latencyHistogram()
  for (const report of reports) if (report.histogram !== null) all.add(hdr.decodeFromCompressedBase64(report.histogram))
  return all
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

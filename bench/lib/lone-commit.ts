/**
 * The floor under a durable write acknowledgement on this disk: one write at a time through
 * riptide's own LMDB store (a conditional write, then its flush), with nothing else running.
 * An acknowledgement that takes about this plus a network round trip waited for one commit and
 * one flush, not for a batching delay. The CPU it costs (all threads: lmdb-js commits and flushes
 * on libuv's) is what every transaction costs, however few writes it holds.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { latencyHistogram } from './histogram.js'
import { LmdbRecords } from '../../src/native-adapters/lmdb/lmdb-records.js'

export interface LoneCommit { p50Ms: number, p99Ms: number, cpuMicros: number }

/** p50 and p99 in ms of `writes` durable writes, one after another, each to its own record, and the CPU µs of each. */
export async function loneCommit (writes = 500): Promise<LoneCommit> {
  const dir = mkdtempSync(join(tmpdir(), 'riptide-lone-commit-'))
  const store = new LmdbRecords({ path: dir })
  const latency = latencyHistogram(60_000_000)
  try {
    await store.whenReady()
    const cpu = process.cpuUsage()
    for (let i = 0; i < writes; i++) {
      const start = process.hrtime.bigint()
      await store.setIfVersion(`lone/${i % 20}`, await store.head(`lone/${i % 20}`), i, { n: i, pad: 'x'.repeat(80) })
      await store.durable()
      latency.recordValue(Number(process.hrtime.bigint() - start) / 1000)
    }
    const used = process.cpuUsage(cpu)
    return { p50Ms: latency.getValueAtPercentile(50) / 1000, p99Ms: latency.getValueAtPercentile(99) / 1000, cpuMicros: (used.user + used.system) / writes }
  } finally {
    latency.destroy()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The line printed under the app table. */
export function loneCommitLine (lone: LoneCommit): string {
  return `A lone durable write through riptide's LMDB store on this disk (one at a time, nothing else running): p50 ${lone.p50Ms.toFixed(2)} ms, p99 ${lone.p99Ms.toFixed(2)} ms, ${Math.round(lone.cpuMicros)} µs of CPU (all threads).`
}

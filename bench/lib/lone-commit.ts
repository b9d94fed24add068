/**
 * The floor under a durable write acknowledgement on this disk: one write at a time through
 * riptide's own LMDB store (a conditional write, then its flush), with nothing else running.
 * An acknowledgement that takes about this plus a network round trip waited for one commit and
 * one flush, not for a batching delay. The CPU it costs (all threads: lmdb-js commits and flushes
 * on libuv's) is what every transaction costs, however few writes it holds.
 *
 * Beside it, the disk's own floor: one 4 KiB `pwrite` and one `fdatasync`, one after another, in
 * this thread. What the store costs above that is LMDB's (a transaction syncs its pages, then its
 * meta page) and lmdb-js's (the commit and the flush run on libuv's threads).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { latencyHistogram } from './histogram.js'
import { LmdbRecords } from '../../src/native-adapters/lmdb/lmdb-records.js'

export interface Floor { p50Ms: number, p99Ms: number, cpuMicros: number }
export interface LoneCommit extends Floor { disk: Floor }

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
    const floor = measured(latency, process.cpuUsage(cpu), writes)
    return { ...floor, disk: diskFlush(dir, writes) }
  } finally {
    latency.destroy()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `writes` 4 KiB pages written to a file in `dir` and flushed, one after another. */
function diskFlush (dir: string, writes: number): Floor {
  const fd = openSync(join(dir, 'disk-floor'), 'w')
  const page = Buffer.alloc(4096, 1)
  const latency = latencyHistogram(60_000_000)
  try {
    const cpu = process.cpuUsage()
    for (let i = 0; i < writes; i++) {
      const start = process.hrtime.bigint()
      writeSync(fd, page, 0, page.length, (i % 20) * page.length)
      fdatasyncSync(fd)
      latency.recordValue(Number(process.hrtime.bigint() - start) / 1000)
    }
    return measured(latency, process.cpuUsage(cpu), writes)
  } finally {
    latency.destroy()
    closeSync(fd)
  }
}

function measured (latency: ReturnType<typeof latencyHistogram>, used: NodeJS.CpuUsage, writes: number): Floor {
  return { p50Ms: latency.getValueAtPercentile(50) / 1000, p99Ms: latency.getValueAtPercentile(99) / 1000, cpuMicros: (used.user + used.system) / writes }
}

/** The line printed under the app table. */
export function loneCommitLine (lone: LoneCommit): string {
  return `A lone durable write through riptide's LMDB store on this disk (one at a time, nothing else running): p50 ${lone.p50Ms.toFixed(2)} ms, p99 ${lone.p99Ms.toFixed(2)} ms, ${Math.round(lone.cpuMicros)} µs of CPU (all threads). ` +
    `The disk itself (a 4 KiB pwrite and an fdatasync): p50 ${lone.disk.p50Ms.toFixed(2)} ms, p99 ${lone.disk.p99Ms.toFixed(2)} ms, ${Math.round(lone.disk.cpuMicros)} µs of CPU.`
}

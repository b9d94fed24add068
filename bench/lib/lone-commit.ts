/**
 * The floor under a durable write acknowledgement on this disk: one write at a time through
 * riptide's own LMDB store (a conditional write, then its flush), with nothing else running.
 * An acknowledgement that takes about this plus a network round trip waited for one commit and
 * one flush, not for a batching delay.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { latencyHistogram } from './histogram.js'
import { LmdbRecords } from '../../src/native-adapters/lmdb/lmdb-records.js'

/** p50 and p99 in ms of `writes` durable writes, one after another, each to its own record. */
export async function loneCommit (writes = 500): Promise<{ p50Ms: number, p99Ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'riptide-lone-commit-'))
  const store = new LmdbRecords({ path: dir })
  const latency = latencyHistogram(60_000_000)
  try {
    await store.whenReady()
    for (let i = 0; i < writes; i++) {
      const start = process.hrtime.bigint()
      await store.setIfVersion(`lone/${i % 20}`, await store.head(`lone/${i % 20}`), i, { n: i, pad: 'x'.repeat(80) })
      await store.durable()
      latency.recordValue(Number(process.hrtime.bigint() - start) / 1000)
    }
    return { p50Ms: latency.getValueAtPercentile(50) / 1000, p99Ms: latency.getValueAtPercentile(99) / 1000 }
  } finally {
    latency.destroy()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The line printed under the app table. */
export function loneCommitLine (lone: { p50Ms: number, p99Ms: number }): string {
  return `A lone durable write through riptide's LMDB store on this disk (one at a time, nothing else running): p50 ${lone.p50Ms.toFixed(2)} ms, p99 ${lone.p99Ms.toFixed(2)} ms.`
}

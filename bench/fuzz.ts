/**
 * The fuzzer of test/fuzz.test.ts, for minutes, against a server process
 * started by the CLI (all cores): prints frames sent, the server's memory
 * over time, and whether a normal client is still served at the end.
 *
 *   npm run bench:fuzz [-- --seconds 120 --seed 1]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DeepstreamClient } from '@deepstream/client'
import { spawnServer, stopServer } from './lib/child-server.js'
import { fuzz } from './lib/fuzzer.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '120' }, seed: { type: 'string', default: String(Date.now() % 1_000_000) } } })
const SECONDS = Number(args.seconds)
const SEED = Number(args.seed)

function rssMiB (pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? 0 : Number(match[1]) / 1024
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-fuzz-'))
  const config = join(work, 'config.yml')
  writeFileSync(config, `logLevel: WARN\ncache: { type: lmdb, options: { path: ${JSON.stringify(join(work, 'data'))} } }\nstorage: { type: none }\n`)
  const server = await spawnServer(config, ['--log-level', 'info'])
  const pid = server.process.pid ?? 0
  let died = false
  void server.exited.then(() => { died = true })
  try {
    const start = rssMiB(pid)
    console.log(`fuzzing ${SECONDS} s with seed ${SEED}; server RSS ${start.toFixed(0)} MiB`)
    let frames = 0
    for (let minute = 0; minute * 30 < SECONDS && !died; minute++) {
      const report = await fuzz(server.port, Math.min(30, SECONDS - minute * 30) * 1000, SEED + minute)
      frames += report.frames
      console.log(`${Math.min((minute + 1) * 30, SECONDS)} s: ${frames} frames, server RSS ${rssMiB(pid).toFixed(0)} MiB`)
      if (report.unanswered.length > 0 || report.stalledOpens > 0) {
        console.log(`  ${report.unanswered.length} HTTP requests unanswered (first: ${report.unanswered[0] ?? '-'}), ${report.stalledOpens} WebSocket upgrades stalled`)
        process.exitCode = 1
      }
    }
    if (died) throw new Error('the server process died')
    const client = new DeepstreamClient(`ws://127.0.0.1:${server.port}/deepstream`, { offlineEnabled: false })
    await client.login({})
    await client.record.setDataWithAck('fuzz/after', { ok: true })
    const ok = JSON.stringify(await client.record.snapshot('fuzz/after')) === '{"ok":true}'
    client.close()
    console.log(`a normal client ${ok ? 'is served' : 'is NOT served'}; server RSS ${start.toFixed(0)} -> ${rssMiB(pid).toFixed(0)} MiB`)
    if (!ok) process.exitCode = 1
  } finally {
    await stopServer(server)
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

/**
 * `npm run bench:app [-- --seconds 5]`: the same app code on @deepstream/client against deepstream
 * 7.0.2 on uWS (the baseline) and against riptide, and on riptide/client's DeepstreamClient (the
 * one-import switch) against riptide: bench/lib/app-load.ts. `npm run bench` prints the same table
 * after its own; this runs it alone.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { APP_ROWS, appScenarios, appTable, type AppMeasured } from './lib/app-load.js'
import { startDeepstream, startRiptide } from './lib/targets.js'
import { loneCommit, loneCommitLine } from './lib/lone-commit.js'
import { progress, saveResults } from './lib/report.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } })
const SECONDS = Number(args.seconds)

const work = mkdtempSync(join(tmpdir(), 'riptide-bench-app-'))
const results: Record<string, Record<string, AppMeasured>> = {}
let step = 0
const steps = APP_ROWS.length * 3
try {
  for (const [start, kinds] of [[() => startDeepstream(work, 'uws'), ['@deepstream/client']], [() => startRiptide(work), ['@deepstream/client', 'riptide/client']]] as const) {
    const target = await start()
    try {
      results[target.name] = await appScenarios(target, kinds, SECONDS, (label) => progress(step++, steps, label, 60))
    } finally {
      await target.stop()
    }
  }
  progress(steps, steps, 'done', 60)
  const lone = await loneCommit()
  console.log(`\n\n${appTable(results)}\n\n${loneCommitLine(lone)}`)
  saveResults('app', { seconds: SECONDS, results, loneCommit: lone })
} finally {
  rmSync(work, { recursive: true, force: true })
}

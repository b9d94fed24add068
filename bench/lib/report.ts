/** What every benchmark prints and keeps: a progress bar, ratios, and its figures as JSON under bench/results/. */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { PACKAGE_ROOT } from '../../src/native-adapters/compiled-module.js'

/** `value / baseline` to two places, or `-` when either is zero, missing or not a number. */
export function ratio (value: number, baseline: number): string {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline > 0 && value > 0 ? (value / baseline).toFixed(2) : '-'
}

/** Where a result came from: the command, the commit, Node and the machine. */
function provenance (): Record<string, unknown> {
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    // not a git checkout
  }
  return { command: process.argv.slice(1).join(' '), commit, node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism() }
}

/** Redraws a one-line progress bar on stdout. */
export function progress (step: number, total: number, label: string, labelWidth = 48): void {
  const width = 30
  const filled = Math.round((step / total) * width)
  process.stdout.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${total} ${label.padEnd(labelWidth)}`)
}

/** Writes `figures`, dated, to bench/results/<bench>-<time>.json and says where. */
export function saveResults (bench: string, figures: Record<string, unknown>): string {
  const dir = join(PACKAGE_ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const date = new Date().toISOString()
  const file = join(dir, `${bench}-${date.replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify({ date, ...provenance(), ...figures }, null, 2))
  console.log(`\nsaved ${file}`)
  return file
}

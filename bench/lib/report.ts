/** What every benchmark prints and keeps: a progress bar, and its figures as JSON under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGE_ROOT } from '../../src/workers/compiled-module.js'

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
  writeFileSync(file, JSON.stringify({ date, ...figures }, null, 2))
  console.log(`\nsaved ${file}`)
  return file
}

/**
 * The HTTP endpoints under autocannon, riptide against @deepstream/server
 * 7.0.2 in one run: `/health-check` (the floor), and JIF batches of one
 * event emit, one record write, one record read.
 *
 *   npm run bench:http [-- --seconds 5]   (also part of npm run bench)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { startDeepstream, startRiptide, type Target } from './lib/targets.js'
import { ratio } from './lib/report.js'
import { cpuSeconds } from './lib/load.js'

// Not strict: bench and bench:profile import this module with options of their own.
const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '32' } }, strict: false })
const SECONDS = Number(args.seconds)
const CONNECTIONS = Number(args.connections)

const jif = (item: Record<string, unknown>): string => JSON.stringify({ body: [item] })
export const CASES: Array<{ label: string, method: 'GET' | 'POST', path: string, body?: string }> = [
  { label: 'GET /health-check', method: 'GET', path: '/health-check' },
  { label: 'JIF event emit', method: 'POST', path: '/api', body: jif({ topic: 'event', action: 'emit', eventName: 'bench/http', data: { n: 1 } }) },
  { label: 'JIF record write', method: 'POST', path: '/api', body: jif({ topic: 'record', action: 'write', recordName: 'bench/http', data: { n: 1 } }) },
  { label: 'JIF record read', method: 'POST', path: '/api', body: jif({ topic: 'record', action: 'read', recordName: 'bench/http' }) },
]

interface Measured { requests: number, p99: number, errors: number, serverMicros: number }

/** One case under autocannon against `port`. */
export function cannon (port: number, { method, path, body }: typeof CASES[number], seconds = SECONDS): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    method,
    body,
    headers: { 'content-type': 'application/json' },
    connections: CONNECTIONS,
    duration: seconds,
  })
}

async function measure (target: Target): Promise<Measured[]> {
  const results = []
  for (const one of CASES) {
    const cpuBefore = cpuSeconds(target.pid)
    const result = await cannon(target.port, one)
    const serverMicros = result.requests.total === 0 ? Number.NaN : ((cpuSeconds(target.pid) - cpuBefore) * 1e6) / result.requests.total
    results.push({ requests: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx, serverMicros })
  }
  return results
}

export async function httpBench (): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-http-'))
  try {
    const rows: Measured[][] = []
    for (const start of [startDeepstream, startRiptide]) {
      const target = await start(work)
      try {
        rows.push(await measure(target))
      } finally {
        await target.stop()
      }
    }
    const [ds, rt] = rows
    const lines = [
      `| HTTP (autocannon, ${CONNECTIONS} connections) | deepstream 7.0.2 (uWS) req/s | riptide req/s | riptide / deepstream | p99 ms (deepstream / riptide) | server CPU µs per request (deepstream / riptide) |`,
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    ]
    CASES.forEach(({ label }, i) => {
      const errors = ds[i].errors + rt[i].errors > 0 ? ` (errors: ${ds[i].errors} / ${rt[i].errors})` : ''
      lines.push(`| ${label}${errors} | ${Math.round(ds[i].requests).toLocaleString('en')} | ${Math.round(rt[i].requests).toLocaleString('en')} | ${ratio(rt[i].requests, ds[i].requests)} | ${ds[i].p99} / ${rt[i].p99} | ${ds[i].serverMicros.toFixed(1)} / ${rt[i].serverMicros.toFixed(1)} |`)
    })
    return lines.join('\n')
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1]?.endsWith('http.js')) console.log(await httpBench())

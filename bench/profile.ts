/**
 * Where a riptide server spends its CPU under one of the bench workloads:
 *
 *   npm run bench:profile -- --workload acked-writes [--workers 2] [--seconds 5] [--top 25]
 *
 * Workloads: those of `npm run bench` (fan-out, fan-out-1000, many-topics,
 * acked-writes, record-updates, rpc) and the HTTP cases of `npm run
 * bench:http` under autocannon (http-health, http-emit, http-write, http-read),
 * `logins` (the connection storm: 5,000 logins, 100 at a time), and the app scenarios of
 * `npm run bench:app` (app-fan-out, app-records, app-rpc, app-acks, app-paced-acks) on `--client @deepstream/client` (the
 * default) or `--client riptide/client`.
 *
 * Starts riptide through its CLI with `node --cpu-prof` (every thread writes
 * a profile when it ends), drives the workload, stops the server, and prints
 * each thread's functions by self time, with the server's CPU per message.
 * The profiles stay in the printed folder for Chrome DevTools.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { loginStorm, startRiptide } from './lib/targets.js'
import { ACKED_WRITES, FAN_OUT_1000, fanOut100, jobsFor, MANY_TOPICS, measuredReports, RECORD_UPDATES, RPC, type Workload } from './lib/workloads.js'
import { cpuSeconds, runLoad } from './lib/load.js'
import { cannon, CASES } from './http.js'
import { APP_CLIENTS, APP_SCENARIOS, measureApp, type AppClientKind, type AppScenario } from './lib/app-load.js'

const WORKLOADS: Record<string, Workload> = {
  'fan-out': fanOut100(0),
  'fan-out-1000': FAN_OUT_1000,
  'many-topics': MANY_TOPICS,
  'acked-writes': ACKED_WRITES,
  'record-updates': RECORD_UPDATES,
  rpc: RPC,
}

const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'acked-writes' },
    workers: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    top: { type: 'string', default: '25' },
    client: { type: 'string', default: '@deepstream/client' },
  },
})
const HTTP_CASES: Record<string, typeof CASES[number]> = { 'http-health': CASES[0], 'http-emit': CASES[1], 'http-write': CASES[2], 'http-read': CASES[3] }
const workload = WORKLOADS[args.workload]
const httpCase = HTTP_CASES[args.workload]
const storm = args.workload === 'logins'
const appScenario = APP_SCENARIOS.find((scenario) => args.workload === `app-${scenario}`)
const appClient = APP_CLIENTS.find((kind) => kind === args.client)
if (workload === undefined && httpCase === undefined && !storm && appScenario === undefined) throw new Error(`--workload: one of ${[...Object.keys(WORKLOADS), ...Object.keys(HTTP_CASES), 'logins', ...APP_SCENARIOS.map((s) => `app-${s}`)].join(', ')}`)
if (appClient === undefined) throw new Error(`--client: one of ${APP_CLIENTS.join(', ')}`)

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
interface Profile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[] }

/** Self time per function of one profile, in ms, largest first. */
function selfTimes (profile: Profile): Array<[string, number]> {
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length)
  const totals = new Map<string, number>()
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame
    const where = url === '' ? '' : ` ${basename(url)}:${lineNumber + 1}`
    const key = `${functionName === '' ? '(anonymous)' : functionName}${where}`
    totals.set(key, (totals.get(key) ?? 0) + (node.hitCount ?? 0) * msPerSample)
  }
  return [...totals].sort((a, b) => b[1] - a[1])
}

const work = mkdtempSync(join(tmpdir(), 'riptide-bench-profile-'))
const profiles = join(work, 'profiles')
const target = await startRiptide(work, args.workers === undefined ? undefined : Number(args.workers), ['--cpu-prof', `--cpu-prof-dir=${profiles}`])
const seconds = Number(args.seconds)
try {
  let label: string
  let count: number
  let cpu: number
  if (workload !== undefined) {
    const run = await runLoad(jobsFor(workload, `profile-${Date.now()}`, target.port, seconds), target.pid)
    label = workload.label
    count = measuredReports(workload, run.reports).reduce((sum, report) => sum + report.count, 0)
    cpu = run.cpuSeconds
  } else if (appScenario !== undefined) {
    const measured = await measureApp(appScenario as AppScenario, appClient as AppClientKind, target, seconds)
    label = `app ${appScenario} on ${appClient}`
    count = measured.perSecond * seconds
    cpu = (measured.serverMicros * count) / 1e6
  } else if (storm) {
    const logins = await loginStorm(target)
    await Promise.all(logins.clients.map((client) => client.close()))
    label = 'logins, 100 at a time'
    count = logins.clients.length
    cpu = logins.serverCpuSeconds
  } else {
    // As in bench:http, where the write case runs first, the read finds its record.
    if (httpCase === CASES[3]) await fetch(`http://127.0.0.1:${target.port}${CASES[2].path}`, { method: 'POST', body: CASES[2].body, headers: { 'content-type': 'application/json' } })
    const before = cpuSeconds(target.pid)
    const result = await cannon(target.port, httpCase!, seconds)
    label = `${httpCase!.label} (autocannon)`
    count = result.requests.total
    cpu = cpuSeconds(target.pid) - before
  }
  console.log(`${label}: ${storm ? count.toLocaleString('en') : `${Math.round(count / seconds).toLocaleString('en')}/s`}, server CPU ${((cpu * 1e6) / count).toFixed(1)} µs per message`)
} finally {
  await target.stop()
}
const top = Number(args.top)
for (const file of readdirSync(profiles).filter((name) => name.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as Profile
  const times = selfTimes(profile)
  const busy = times.filter(([name]) => name !== '(idle)' && name !== '(program)').reduce((sum, [, ms]) => sum + ms, 0)
  if (busy < 100) continue // threads that did next to nothing (the supervisor, hashing pools)
  console.log(`\n${file}: ${Math.round(busy)} ms busy in JS and native calls`)
  for (const [name, ms] of times.filter(([name]) => name !== '(idle)').slice(0, top)) console.log(`${ms.toFixed(0).padStart(8)} ms  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${name}`)
}
console.log(`\nprofiles: ${profiles}`)

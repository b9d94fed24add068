/**
 * riptide hosts on Redis, on this machine:
 *
 *   npm run bench:cluster [-- --seconds 5 --hosts 3]
 *
 * Starts a redis-server (Debian's package; appendfsync always) in a temp folder, then riptide
 * servers as separate processes of 2 workers each, every one with `clusterNode: redis` and
 * `cache: redis` on that Redis. Each scenario runs on one host, then on `--hosts` hosts:
 *
 * - event fan-out, 1 publisher → 100 subscribers, as fast as it goes: on several hosts the
 *   publisher is on host 1 and the subscribers on the others, so every delivery crosses Redis;
 * - delivery latency at a fixed 500 publishes/s (50,000 deliveries/s), the same placement;
 * - acknowledged writes, 8 sockets × 32 in flight over 8,000 records, the sockets spread over the
 *   hosts (each write is one compare-and-set script in Redis, acknowledged after its fsync).
 *
 * Prints messages per second, p50 and p99, the CPU of every riptide process and of Redis per
 * message, and Redis commands per message (from INFO stats), and keeps the figures in
 * bench/results/. On 2 cores every host, Redis and the load generator share the same two cores,
 * so more hosts means less CPU for each: read the CPU columns beside the rates.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { spawnServer, stopServer, type ChildServer } from './lib/child-server.js'
import { merged, runLoad } from './lib/load.js'
import type { LoadJob } from './lib/load-worker.js'
import { ACKED_WRITES, fanOut100, type Job, type Workload } from './lib/workloads.js'
import { startRedisServer, redisInstalled } from './lib/redis-server.js'
import { progress, saveResults } from './lib/report.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, hosts: { type: 'string', default: '3' } } })
const SECONDS = Number(args.seconds)
const HOSTS = Number(args.hosts)
if (!redisInstalled()) throw new Error('bench:cluster needs Debian\'s redis-server package (apt install redis-server)')

/** A scenario's jobs, each with the host it connects to, and which of them count its messages. */
interface Placed { readonly jobs: Array<Job & { port: number }>, readonly measured: readonly number[] }

interface Scenario {
  readonly label: string
  /** The scenario's jobs over the hosts listening on `ports` (the first is host 1). */
  readonly place: (name: string, ports: number[]) => Placed
}

/** The workload's publisher (its last job) on host 1, its subscribers on the other hosts. */
function publisherApart (workload: Workload): Scenario['place'] {
  return (name, ports) => {
    const jobs = workload.jobs(name)
    const others = ports.length === 1 ? ports : ports.slice(1)
    return { jobs: jobs.map((job, i) => ({ ...job, port: i === jobs.length - 1 ? ports[0] : others[i % others.length] })), measured: workload.measured }
  }
}

/** The workload's one job split over the hosts, its sockets shared out; every part counts. */
function splitOverHosts (workload: Workload): Scenario['place'] {
  return (name, ports) => {
    const [job] = workload.jobs(name)
    const jobs = ports.map((port, i) => ({ ...job, port, name: `${name}-${i}`, count: Math.floor(job.count / ports.length) + (i < job.count % ports.length ? 1 : 0) }))
    return { jobs, measured: jobs.map((_, i) => i) }
  }
}

const SCENARIOS: Scenario[] = [
  { label: 'event fan-out to 100, max rate (deliveries)', place: publisherApart(fanOut100()) },
  { label: 'event fan-out to 100, 500 publishes/s (deliveries)', place: publisherApart(fanOut100(500)) },
  { label: 'acked writes, 8 x 32 in flight (writes)', place: splitOverHosts(ACKED_WRITES) },
]

interface Figures { perSecond: number, p50: number, p99: number, riptideCpuUs: number, redisCpuUs: number, redisCommands: number }

async function redisCounters (client: Redis): Promise<{ commands: number, cpu: number }> {
  const info = await client.info()
  const field = (key: string): number => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return { commands: field('total_commands_processed'), cpu: field('used_cpu_sys') + field('used_cpu_user') }
}

async function measure (scenario: Scenario, hosts: ChildServer[], redis: Redis, run: string): Promise<Figures> {
  const placed = scenario.place(run, hosts.map((host) => host.port))
  const jobs: LoadJob[] = placed.jobs.map((job) => ({ ...job, warmupMs: 1000, durationMs: SECONDS * 1000, protocol: 'protobuf' }))
  let before = { commands: 0, cpu: 0 }
  let after = before
  const result = await runLoad(jobs, hosts.map((host) => host.process.pid ?? 0), async (edge) => {
    if (edge === 'start') before = await redisCounters(redis)
    else after = await redisCounters(redis)
  })
  const reports = placed.measured.map((i) => result.reports[i])
  const count = reports.reduce((sum, report) => sum + report.count, 0)
  const histogram = merged(reports)
  const perMessageUs = (seconds: number): number => count === 0 ? 0 : seconds * 1e6 / count
  return {
    perSecond: count / SECONDS,
    p50: histogram.getValueAtPercentile(50) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    riptideCpuUs: perMessageUs(result.cpuSeconds),
    redisCpuUs: perMessageUs(after.cpu - before.cpu),
    redisCommands: count === 0 ? 0 : (after.commands - before.commands) / count,
  }
}

async function startHosts (count: number, work: string, redisPort: number): Promise<ChildServer[]> {
  const config = join(work, 'riptide.yml')
  const url = `redis://127.0.0.1:${redisPort}`
  writeFileSync(config, `logLevel: INFO\nclusterNode: { type: redis, options: { url: ${url} } }\ncache: { type: redis, options: { url: ${url} } }\nstorage: { type: none }\n`)
  const hosts: ChildServer[] = []
  for (let i = 0; i < count; i++) hosts.push(await spawnServer(config, ['--workers', '2', '--log-level', 'info'], work))
  return hosts
}

const work = mkdtempSync(join(tmpdir(), 'riptide-bench-cluster-'))
const redisServer = await startRedisServer()
const redis = new Redis({ port: redisServer.port, lazyConnect: true })
await redis.connect()
const results: Record<string, Record<string, Figures>> = {}
const layouts = [1, HOSTS]
let step = 0
try {
  for (const hostCount of layouts) {
    const hosts = await startHosts(hostCount, work, redisServer.port)
    try {
      for (const scenario of SCENARIOS) {
        progress(++step, layouts.length * SCENARIOS.length, `${hostCount} host(s): ${scenario.label}`, 64)
        await redis.flushall()
        ;(results[scenario.label] ??= {})[`${hostCount} host${hostCount === 1 ? '' : 's'}`] = await measure(scenario, hosts, redis, `cluster-${step}-${Date.now()}`)
      }
    } finally {
      await Promise.all(hosts.map((host) => stopServer(host)))
    }
  }
} finally {
  redis.disconnect()
  await redisServer.stop()
  rmSync(redisServer.dir, { recursive: true, force: true })
  rmSync(work, { recursive: true, force: true })
}

/** Writers report no latency histogram: '-' there. */
const ms = (value: number): string => value > 0 ? value.toFixed(2) : '-'
console.log(`\n\nriptide hosts of 2 workers on one Redis (appendfsync always), ${SECONDS} s per measure; 1 host against ${HOSTS}`)
console.log('| scenario | hosts | per second | p50 ms | p99 ms | riptide CPU µs per message | Redis CPU µs per message | Redis commands per message |')
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const [label, byHosts] of Object.entries(results)) {
  for (const [hosts, f] of Object.entries(byHosts)) {
    console.log(`| ${label} | ${hosts} | ${Math.round(f.perSecond).toLocaleString('en')} | ${ms(f.p50)} | ${ms(f.p99)} | ${f.riptideCpuUs.toFixed(1)} | ${f.redisCpuUs.toFixed(2)} | ${f.redisCommands.toFixed(3)} |`)
  }
}
saveResults('cluster', { seconds: SECONDS, hosts: HOSTS, results })

/**
 * The same app code on two client libraries: @deepstream/client 7 over protobuf (`/deepstream`),
 * and riptide/client's DeepstreamClient over the native protocol (`/riptide`), the one-import
 * switch of issue 17. Each scenario runs in this thread, all its clients in one app process, as
 * an app would; the figures are what that app gets done per second, the server's CPU per message,
 * and the app's own CPU per message.
 *
 * - fan-out: 50 subscribers, 2 publishers keeping at most 64 emits per publisher undelivered;
 * - records: 50 subscribers of one record, 1 writer with 16 acknowledged sets in flight;
 * - rpc: 1 provider, 4 callers with 16 requests in flight each;
 * - acks: 20 writers, each with one acknowledged set of its own record outstanding, and the
 *   latency of each acknowledgement (issue 13: with few writes in flight, a durable ack should
 *   wait for one commit and flush, not for a batching delay).
 */
import { createRequire } from 'node:module'
import { latencyHistogram, type Histogram } from './histogram.js'
import { DeepstreamClient as CompatClient } from '../../src/client/index.js'
import { cpuSeconds } from './load.js'
import { ratio } from './report.js'

const { DeepstreamClient: StockClient } = createRequire(import.meta.url)('@deepstream/client') as typeof import('@deepstream/client')
/** The app code is written against @deepstream/client's types; the compatible client takes the same calls. */
export type AppClient = InstanceType<typeof StockClient>

export const APP_CLIENTS = ['@deepstream/client', 'riptide/client'] as const
export type AppClientKind = typeof APP_CLIENTS[number]
export const APP_SCENARIOS = ['fan-out', 'records', 'rpc', 'acks', 'paced-acks'] as const
export type AppScenario = typeof APP_SCENARIOS[number]

export interface AppMeasured {
  perSecond: number
  /** The server's CPU µs per message (all its threads). */
  serverMicros: number
  /** The app's (this process's) CPU µs per message. */
  appMicros: number
  /** Scenarios that time each message: its latency percentiles over the measured window, ms. */
  p50Ms?: number
  p99Ms?: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function login (kind: AppClientKind, port: number): Promise<AppClient> {
  const client = kind === '@deepstream/client'
    ? new StockClient(`ws://127.0.0.1:${port}/deepstream`, { maxReconnectAttempts: 0 })
    : new CompatClient(`ws://127.0.0.1:${port}/riptide`, { maxReconnectAttempts: 0 }) as unknown as AppClient
  client.on('error', () => {})
  await client.login({})
  return client
}

/**
 * Subscribes every subscriber to `name`, and resolves once each has heard a probe (`probe`,
 * emitted by `publisher` every 50 ms until then, which `isProbe` recognises), so that no emit after
 * it goes into the void. `onData` hears everything else.
 */
export async function subscribeLive (subscribers: AppClient[], publisher: AppClient, name: string, probe: unknown, isProbe: (data: unknown) => boolean, onData: (data: unknown) => void): Promise<void> {
  const live = subscribers.map((client) => new Promise<void>((ready) => {
    client.event.subscribe(name, (data: unknown) => {
      if (isProbe(data)) ready()
      else onData(data)
    })
  }))
  const probing = setInterval(() => publisher.event.emit(name, probe as string), 50)
  await Promise.all(live)
  clearInterval(probing)
}

/**
 * The clients and the loop of one scenario: `count` says how many messages so far; `latency`, where
 * the scenario times its messages, records each one's in µs (reset when the measured window opens).
 */
interface Running { count: () => number, stop: () => void, clients: AppClient[], latency?: Histogram }

async function fanOut (kind: AppClientKind, port: number, name: string): Promise<Running> {
  const subscribers = await Promise.all(Array.from({ length: 50 }, () => login(kind, port)))
  const publishers = await Promise.all(Array.from({ length: 2 }, () => login(kind, port)))
  let delivered = 0
  await subscribeLive(subscribers, publishers[0], name, 'probe', (data) => data === 'probe', () => { delivered++ })
  const payload = { pad: 'x'.repeat(80) }
  let emitted = 0
  let running = true
  // At most 64 emits per publisher not yet delivered to every subscriber; topped up every turn.
  const pump = (): void => {
    if (!running) return
    while ((emitted - delivered / subscribers.length) < 64 * publishers.length) publishers[emitted++ % publishers.length].event.emit(name, payload)
    setImmediate(pump)
  }
  pump()
  return { count: () => delivered, stop: () => { running = false }, clients: [...subscribers, ...publishers] }
}

async function records (kind: AppClientKind, port: number, name: string): Promise<Running> {
  const subscribers = await Promise.all(Array.from({ length: 50 }, () => login(kind, port)))
  const writer = await login(kind, port)
  const target = writer.record.getRecord(name)
  await target.whenReady()
  let delivered = 0
  await Promise.all(subscribers.map(async (client) => {
    const record = client.record.getRecord(name)
    await record.whenReady()
    record.subscribe(() => { delivered++ })
  }))
  let running = true
  let n = 0
  const write = (): void => {
    if (!running) return
    target.setWithAck({ n: n++, pad: 'x'.repeat(80) }).then(write, write)
  }
  for (let i = 0; i < 16; i++) write()
  return { count: () => delivered, stop: () => { running = false }, clients: [...subscribers, writer] }
}

async function rpc (kind: AppClientKind, port: number, name: string): Promise<Running> {
  const provider = await login(kind, port)
  provider.rpc.provide(name, (data, response) => response.send(data))
  const callers = await Promise.all(Array.from({ length: 4 }, () => login(kind, port)))
  // The provider is registered once a request gets an answer.
  for (;;) {
    try {
      await callers[0].rpc.make(name, 0)
      break
    } catch {
      await sleep(20)
    }
  }
  let done = 0
  let running = true
  const call = (caller: AppClient): void => {
    if (!running) return
    caller.rpc.make(name, { n: done }).then(() => { done++; call(caller) }, () => call(caller))
  }
  for (const caller of callers) for (let i = 0; i < 16; i++) call(caller)
  return { count: () => done, stop: () => { running = false }, clients: [provider, ...callers] }
}

/**
 * 20 writers, each with a record of its own, and `set`, which sets a writer's record and times its
 * acknowledgement into `latency` (µs), counting it in `acked()`.
 */
async function ackWriters (kind: AppClientKind, port: number, name: string): Promise<{ writers: AppClient[], records: Array<ReturnType<AppClient['record']['getRecord']>>, latency: Histogram, acked: () => number, set: (i: number) => Promise<void> }> {
  const writers = await Promise.all(Array.from({ length: 20 }, () => login(kind, port)))
  const latency = latencyHistogram(60_000_000)
  let acked = 0
  const records = await Promise.all(writers.map(async (writer, i) => {
    const record = writer.record.getRecord(`${name}/${i}`)
    await record.whenReady()
    return record
  }))
  const set = async (i: number): Promise<void> => {
    const sent = process.hrtime.bigint()
    await records[i].setWithAck({ n: acked, pad: 'x'.repeat(80) })
    latency.recordValue(Number(process.hrtime.bigint() - sent) / 1000)
    acked++
  }
  return { writers, records, latency, acked: () => acked, set }
}

async function acks (kind: AppClientKind, port: number, name: string): Promise<Running> {
  const { writers, records, latency, acked, set } = await ackWriters(kind, port, name)
  let running = true
  const write = (i: number): void => {
    if (running) set(i).then(() => write(i), () => write(i))
  }
  records.forEach((_, i) => write(i))
  return { count: acked, stop: () => { running = false }, clients: writers, latency }
}

/** Each writer of `pacedAcks` sets its record this often, so 20 writers make 1,000 sets/s. */
const PACED_EVERY_MS = 20

/**
 * 20 writers, each setting a record of its own every 20 ms whatever the server does (1,000 sets/s in
 * all, spread over the period): how long an ack takes when no queue has built up.
 */
async function pacedAcks (kind: AppClientKind, port: number, name: string): Promise<Running> {
  const { writers, records, latency, acked, set } = await ackWriters(kind, port, name)
  const timers: NodeJS.Timeout[] = []
  records.forEach((_, i) => {
    const write = (): void => { set(i).catch(() => {}) }
    timers[i] = setTimeout(() => {
      write()
      timers[i] = setInterval(write, PACED_EVERY_MS)
    }, (i * PACED_EVERY_MS) / records.length)
  })
  return { count: acked, stop: () => { for (const timer of timers) clearTimeout(timer) }, clients: writers, latency }
}

const SCENARIOS: Record<AppScenario, (kind: AppClientKind, port: number, name: string) => Promise<Running>> = { 'fan-out': fanOut, records, rpc, acks, 'paced-acks': pacedAcks }

/** One scenario with one client library against a server (`pid` on `port`): 1 s of warm-up, then `seconds` measured. */
export async function measureApp (scenario: AppScenario, kind: AppClientKind, target: { port: number, pid: number }, seconds: number): Promise<AppMeasured> {
  const running = await SCENARIOS[scenario](kind, target.port, `app-${scenario}/${Date.now()}`)
  try {
    await sleep(1000)
    running.latency?.reset()
    const count = running.count()
    const server = cpuSeconds(target.pid)
    const app = process.cpuUsage()
    await sleep(seconds * 1000)
    const messages = running.count() - count
    const serverUsed = cpuSeconds(target.pid) - server
    const appUsed = process.cpuUsage(app)
    const per = (cpu: number): number => (messages === 0 ? Number.NaN : (cpu * 1e6) / messages)
    const ms = (percentile: number): number | undefined => (running.latency === undefined ? undefined : running.latency.getValueAtPercentile(percentile) / 1000)
    return { perSecond: messages / seconds, serverMicros: per(serverUsed), appMicros: per((appUsed.user + appUsed.system) / 1e6), p50Ms: ms(50), p99Ms: ms(99) }
  } finally {
    running.stop()
    for (const client of running.clients) client.close()
    running.latency?.destroy()
    await sleep(200) // the closes reach the server before the next scenario
  }
}

/** The app table's rows: each scenario, its unit. */
export const APP_ROWS: ReadonlyArray<readonly [AppScenario, string]> = [
  ['fan-out', 'event deliveries/s (50 subscribers, 2 publishers)'],
  ['records', 'record updates delivered/s (50 subscribers, 1 writer, 16 acked sets in flight)'],
  ['rpc', 'rpc round trips/s (4 callers x 16 in flight, 1 provider)'],
  ['acks', 'acknowledged sets/s (20 writers, 1 in flight each, a record each)'],
  ['paced-acks', 'acknowledged sets/s at a fixed 1,000/s (20 writers, one set each every 20 ms): see its latency'],
]

/** Every scenario with each of `kinds` against one server: figures keyed `<scenario> <client>`. */
export async function appScenarios (target: { port: number, pid: number, name: string }, kinds: readonly AppClientKind[], seconds: number, step: (label: string) => void): Promise<Record<string, AppMeasured>> {
  const figures: Record<string, AppMeasured> = {}
  for (const kind of kinds) {
    for (const [scenario] of APP_ROWS) {
      step(`${target.name}: app ${scenario} on ${kind}`)
      figures[`${scenario} ${kind}`] = await measureApp(scenario, kind, target, seconds)
    }
  }
  return figures
}

/**
 * The app table: a column per server and client library, the first the baseline of the ratios,
 * then the server's and the app's CPU per message.
 */
export function appTable (results: Record<string, Record<string, AppMeasured>>): string {
  const columns: Array<{ label: string, figures: (scenario: AppScenario) => AppMeasured | undefined }> = []
  for (const [server, figures] of Object.entries(results)) {
    for (const kind of APP_CLIENTS) {
      if (Object.keys(figures).some((key) => key.endsWith(` ${kind}`))) columns.push({ label: `${server} + ${kind}`, figures: (scenario) => figures[`${scenario} ${kind}`] })
    }
  }
  const whole = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '-' : Math.round(value).toLocaleString('en'))
  const tenth = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(1))
  const lines = [
    'The same app code (bench/lib/app-load.ts) on each client library; ratios against the first column.',
    '',
    `| app scenario | ${columns.map((c) => c.label).join(' | ')} | ${columns.slice(1).map((c) => `${c.label} / baseline`).join(' | ')} |`,
    `| --- |${' ---: |'.repeat(columns.length * 2 - 1)}`,
  ]
  for (const [scenario, label] of APP_ROWS) {
    const values = columns.map((c) => c.figures(scenario)?.perSecond ?? Number.NaN)
    lines.push(`| ${label} | ${values.map(whole).join(' | ')} | ${values.slice(1).map((v) => ratio(v, values[0])).join(' | ')} |`)
  }
  lines.push('', `| CPU µs per message: server / app | ${columns.map((c) => c.label).join(' | ')} |`, `| --- |${' ---: |'.repeat(columns.length)}`)
  for (const [scenario] of APP_ROWS) {
    lines.push(`| ${scenario} | ${columns.map((c) => `${tenth(c.figures(scenario)?.serverMicros)} / ${tenth(c.figures(scenario)?.appMicros)}`).join(' | ')} |`)
  }
  const hundredth = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(2))
  const timed = APP_ROWS.filter(([scenario]) => columns.some((c) => c.figures(scenario)?.p50Ms !== undefined))
  if (timed.length > 0) {
    lines.push('', `| latency ms: p50 / p99 | ${columns.map((c) => c.label).join(' | ')} |`, `| --- |${' ---: |'.repeat(columns.length)}`)
    for (const [scenario] of timed) {
      lines.push(`| ${scenario} | ${columns.map((c) => `${hundredth(c.figures(scenario)?.p50Ms)} / ${hundredth(c.figures(scenario)?.p99Ms)}`).join(' | ')} |`)
    }
  }
  return lines.join('\n')
}

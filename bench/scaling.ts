/**
 * Worker scaling: the same load against a server with 1 worker and with N
 * (all cores), in one run, printed as a ratio.
 *
 *   npm run bench:scaling [-- --seconds 5 --workers 2]
 *
 * 1. Event fan-out: 200 subscriber sockets on one event name, 2 publishers,
 *    each keeping 32 events in flight (an event leaves flight when the
 *    publisher's own sentinel subscriber has it). Counts deliveries/s over
 *    all subscribers.
 * 2. Acknowledged record writes (LMDB, durable): 8 sockets x 32 setData in
 *    flight over 1,000 records each.
 *
 * Each server runs in its own process through the CLI; the load generator is
 * this one thread, and it shares the machine's cores with the server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { spawnServer, stopServer } from './lib/child-server.js'
import { ProtocolClient } from './lib/protocol-client.js'
import { closedLoop } from './lib/closed-loop.js'
import { EVENT_ACTION, RECORD_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { encodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'
import { cpuSeconds } from './lib/load.js'
import { saveResults } from './lib/report.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    workers: { type: 'string', default: String(availableParallelism()) },
    subscribers: { type: 'string', default: '200' },
  },
})
const SECONDS = Number(args.seconds)
const MANY = Number(args.workers)
const SUBSCRIBERS = Number(args.subscribers)
const PUBLISHERS = 2
const WINDOW = 32
const WARM_UP_MS = 1000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `tick` until told to stop; counts only inside the measured window. */
function window (): { counting: () => boolean, done: Promise<void> } {
  let counting = false
  const done = (async () => {
    await sleep(WARM_UP_MS)
    counting = true
    await sleep(SECONDS * 1000)
    counting = false
  })()
  return { counting: () => counting, done }
}

async function fanOut (port: number): Promise<number> {
  let delivered = 0
  const measure = window()
  // Subscribers: raw clients that count frames without decoding them.
  const subscribers = await Promise.all(Array.from({ length: SUBSCRIBERS }, async () => {
    const client = await ProtocolClient.login(port)
    client.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['fan'], correlationId: 's' })
    client.onFrame = () => { if (measure.counting()) delivered++ }
    return client
  }))
  const publishers = await Promise.all(Array.from({ length: PUBLISHERS }, async (_, index) => {
    const publisher = await ProtocolClient.login(port)
    const sentinel = await ProtocolClient.login(port)
    sentinel.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: [`fan-${index}`], correlationId: 's' })
    return { publisher, sentinel, name: `fan-${index}` }
  }))
  await sleep(300)
  let running = true
  await Promise.all(publishers.map(async ({ publisher, sentinel, name }) => {
    // The event goes to "fan" (every subscriber) and a marker to this publisher's sentinel.
    const event = encodeProtobuf({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'fan', data: '"tick"' })
    const marker = encodeProtobuf({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, data: '"m"' })
    let inFlight = 0
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (running && inFlight < WINDOW) {
          inFlight++
          publisher.sendFrame(event)
          publisher.sendFrame(marker)
        }
        if (!running && inFlight === 0) resolve()
      }
      sentinel.onFrame = () => { inFlight--; pump() }
      pump()
    })
  }).concat([measure.done.then(() => { running = false })]))
  await Promise.all([...subscribers, ...publishers.flatMap((p) => [p.publisher, p.sentinel])].map((client) => client.close()))
  return delivered / SECONDS
}

async function recordWrites (port: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: 8 }, () => ProtocolClient.login(port)))
  const data = JSON.stringify({ title: 'scaling', body: 'x'.repeat(160) })
  const { perSecond } = await closedLoop(clients, { depth: 32, warmupMs: WARM_UP_MS, seconds: SECONDS }, (socket, sequence) => ({
    topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name: `scaling/${socket}/${sequence % 1000}`, version: -1, data, isWriteAck: true, correlationId: String(sequence),
  }), (message) => message.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT)
  await Promise.all(clients.map((client) => client.close()))
  return perSecond
}

interface Phase { perSecond: number, serverCores: number, generatorCores: number }

/** Runs a load phase and reports its rate with the cores the server and this generator kept busy. */
async function phase (serverPid: number, run: () => Promise<number>): Promise<Phase> {
  const serverBefore = cpuSeconds(serverPid)
  const generatorBefore = process.cpuUsage()
  const started = performance.now()
  const perSecond = await run()
  const elapsed = (performance.now() - started) / 1000
  const generator = process.cpuUsage(generatorBefore)
  return {
    perSecond,
    serverCores: (cpuSeconds(serverPid) - serverBefore) / elapsed,
    generatorCores: (generator.user + generator.system) / 1e6 / elapsed,
  }
}

async function measure (workers: number, work: string): Promise<{ deliveries: Phase, writes: Phase }> {
  const dir = join(work, `w${workers}`)
  mkdirSync(dir)
  const config = join(dir, 'config.yml')
  writeFileSync(config, `logLevel: INFO\ncache: { type: lmdb, options: { path: ${JSON.stringify(join(dir, 'data'))} } }\nstorage: { type: none }\n`)
  const server = await spawnServer(config, ['--workers', String(workers)])
  try {
    const pid = server.process.pid ?? 0
    const deliveries = await phase(pid, () => fanOut(server.port))
    const writes = await phase(pid, () => recordWrites(server.port))
    return { deliveries, writes }
  } finally {
    await stopServer(server)
  }
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-scaling-'))
  try {
    console.log(`scaling bench: 1 worker against ${MANY}, ${availableParallelism()} cores, ${SECONDS} s per measure`)
    const one = await measure(1, work)
    const many = await measure(MANY, work)
    const row = (label: string, a: Phase, b: Phase): string =>
      `| ${label} | ${Math.round(a.perSecond).toLocaleString('en')} | ${Math.round(b.perSecond).toLocaleString('en')} | ${(b.perSecond / a.perSecond).toFixed(2)} | ${a.serverCores.toFixed(2)} / ${b.serverCores.toFixed(2)} | ${a.generatorCores.toFixed(2)} / ${b.generatorCores.toFixed(2)} |`
    console.log(`\n| measure | 1 worker | ${MANY} workers | ${MANY} / 1 | server cores busy (1 / ${MANY}) | generator cores busy (1 / ${MANY}) |`)
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
    console.log(row(`event deliveries/s (${SUBSCRIBERS} subscribers)`, one.deliveries, many.deliveries))
    console.log(row('acknowledged record writes/s (lmdb)', one.writes, many.writes))
    saveResults('scaling', { cores: availableParallelism(), seconds: SECONDS, subscribers: SUBSCRIBERS, one, many: { workers: MANY, ...many } })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

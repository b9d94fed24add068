/**
 * What monitoring costs per message: the same event load against a server
 * (one worker) with `monitoring: none` and with `monitoring: http`, in one
 * run, measured as server CPU time per message handled.
 *
 *   npm run bench:monitoring [-- --seconds 5]
 *
 * Load: 4 publishers keeping 64 emits in flight each (an emit leaves flight
 * when the publisher's own subscription delivers it back through a second
 * socket), 10 subscribers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { spawnServer, stopServer } from './lib/child-server.js'
import { ProtocolClient } from './lib/protocol-client.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { encodeProtobuf } from '../src/native-free-core/protocol/protobuf-codec.js'
import { cpuSeconds } from './lib/load.js'

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } })
const SECONDS = Number(args.seconds)

async function run (monitoring: string, work: string): Promise<{ messages: number, cpuMicrosPerMessage: number }> {
  const config = join(work, `${monitoring}.yml`)
  writeFileSync(config, `logLevel: INFO\nmonitoring: { type: ${monitoring}${monitoring === 'http' ? ', options: { headerValue: bench-secret }' : ''} }\n`)
  const server = await spawnServer(config, ['--workers', '1'])
  const pid = server.process.pid ?? 0
  try {
    const subscribers = await Promise.all(Array.from({ length: 10 }, async () => {
      const client = await ProtocolClient.login(server.port)
      client.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: ['load'], correlationId: 's' })
      client.onFrame = () => {}
      return client
    }))
    let messages = 0
    let running = true
    const publishers = await Promise.all(Array.from({ length: 4 }, async (_, index) => {
      const publisher = await ProtocolClient.login(server.port)
      const echo = await ProtocolClient.login(server.port)
      echo.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: [`echo-${index}`], correlationId: 's' })
      return { publisher, echo, name: `echo-${index}` }
    }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const cpuBefore = cpuSeconds(pid)
    setTimeout(() => { running = false }, SECONDS * 1000)
    await Promise.all(publishers.map(({ publisher, echo, name }) => new Promise<void>((resolve) => {
      const load = encodeProtobuf({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'load', data: '{"n":1}' })
      const marker = encodeProtobuf({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, data: '1' })
      let inFlight = 0
      const pump = (): void => {
        while (running && inFlight < 64) {
          inFlight++
          publisher.sendFrame(load)
          publisher.sendFrame(marker)
          messages += 2
        }
        if (!running && inFlight === 0) resolve()
      }
      echo.onFrame = () => { inFlight--; pump() }
      pump()
    })))
    const cpu = cpuSeconds(pid) - cpuBefore
    await Promise.all([...subscribers, ...publishers.flatMap((p) => [p.publisher, p.echo])].map((client) => client.close()))
    return { messages, cpuMicrosPerMessage: cpu * 1e6 / messages }
  } finally {
    await stopServer(server)
  }
}

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'riptide-bench-monitoring-'))
  try {
    const none = await run('none', work)
    const http = await run('http', work)
    console.log('\n| monitoring | messages handled | server CPU per message |')
    console.log('| --- | ---: | ---: |')
    console.log(`| none | ${none.messages.toLocaleString('en')} | ${none.cpuMicrosPerMessage.toFixed(2)} µs |`)
    console.log(`| http | ${http.messages.toLocaleString('en')} | ${http.cpuMicrosPerMessage.toFixed(2)} µs |`)
    console.log(`\nmonitoring costs ${(http.cpuMicrosPerMessage - none.cpuMicrosPerMessage).toFixed(2)} µs of server CPU per message (${((http.cpuMicrosPerMessage / none.cpuMicrosPerMessage - 1) * 100).toFixed(1)}%)`)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await main()

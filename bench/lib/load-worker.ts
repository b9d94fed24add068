/**
 * One thread of the load generator. It runs a role over sockets speaking
 * deepstream's protobuf or riptide's native protocol (`protocol`) and
 * reports counts, bytes received and an HDR histogram (µs) to the main thread:
 *
 * - `subscribers`: `count` sockets subscribed to `name`; each delivery's data
 *   holds the time the publisher meant to send it, so the histogram is
 *   latency corrected for coordinated omission in fixed-rate runs.
 * - `publisher`: emits to `name`, either at `rate` per second on a fixed
 *   schedule (open loop) or as fast as the server takes them (`rate` 0:
 *   `window` emits in flight, each leaving flight when its echo arrives).
 * - `rpc`: `count` sockets making requests in a closed loop, `window` each.
 * - `provider`: `count` sockets providing the RPC `name`.
 * - `record-subscribers`: `count` sockets subscribed to record `name`; the
 *   latency of each update is taken from the time the writer put in it.
 * - `writer`: acknowledged setData to record `name`, `window` in flight, or
 *   `rate` per second on a fixed schedule (open loop; each write carries the
 *   time it was due, for the record subscribers' latency).
 *
 * Roles that subscribe or provide report `armed` only once the server has acknowledged every
 * subscription: nothing is published into the void, and the warm-up is not spent subscribing
 * (100,000 subscriptions take a server up to a second).
 */
import { parentPort, workerData } from 'node:worker_threads'
import * as hdr from 'hdr-histogram-js'
import { latencyHistogram } from './histogram.js'
import { ProtocolClient, type WireProtocol } from './protocol-client.js'
import { SocketIoClient } from './socketio-client.js'
import { fixedSchedule } from './schedule.js'
import { EVENT_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { errorStack } from '../../src/native-free-core/errors.js'

export interface LoadJob {
  role: 'subscribers' | 'publisher' | 'rpc' | 'provider' | 'record-subscribers' | 'writer'
  port: number
  count: number
  name: string
  rate: number
  window: number
  warmupMs: number
  durationMs: number
  /** Many-topics runs: subscriber socket i takes topics [(i mod groups) x size, ...) of `${name}/<n>`; the publisher cycles through all. */
  topics?: { groups: number, size: number }
  /** Wire protocol of every socket of the job (default protobuf); `socketio` drives the Socket.IO peer (events only). */
  protocol?: LoadProtocol
}

export type LoadProtocol = WireProtocol | 'socketio'
type LoadClient = ProtocolClient | SocketIoClient

function connect (port: number, protocol: LoadProtocol): Promise<LoadClient> {
  return protocol === 'socketio' ? SocketIoClient.login(port) : ProtocolClient.login(port, {}, '127.0.0.1', protocol)
}

/** The job's sockets as the deepstream protocol clients that records and RPC need. */
function protocolClients (clients: LoadClient[], role: string): ProtocolClient[] {
  return clients.map((client) => {
    if (client instanceof SocketIoClient) throw new Error(`the ${role} role needs a deepstream protocol, not Socket.IO`)
    return client
  })
}

/** `bytes`: bytes the job's sockets received while counting. */
export interface LoadReport { count: number, bytes: number, histogram: string | null }

const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function run (job: LoadJob): Promise<LoadReport> {
  const histogram = latencyHistogram()
  const protocol = job.protocol ?? 'protobuf'
  const clients = await Promise.all(Array.from({ length: job.count }, () => connect(job.port, protocol)))
  let counting = false
  let count = 0
  let bytes = 0
  const received = (): number => clients.reduce((sum, client) => sum + client.bytesReceived, 0)
  const start = (): Promise<void> => sleep(job.warmupMs)
    .then(() => { counting = true; bytes = -received() })
    .then(() => sleep(job.durationMs))
    .then(() => { counting = false; bytes += received() })
  const fromParent = (): Promise<unknown> => new Promise((resolve) => parentPort?.once('message', resolve))
  // Every job's warm-up and window begin together, when the main thread has heard `armed` from all.
  const armed = (): Promise<unknown> => {
    const begin = fromParent()
    parentPort?.postMessage({ type: 'armed' })
    return begin
  }
  parentPort?.postMessage({ type: 'ready' })
  await fromParent()

  if (job.role === 'record-subscribers') {
    // Armed once every subscription is acknowledged: the window measures deliveries, not subscribing.
    await Promise.all(protocolClients(clients, job.role).map((client) => {
      client.onFrame = (frame) => {
        if (!counting) return
        for (const message of client.decode(frame)) {
          if (message.action !== RECORD_ACTION.UPDATE || message.data === undefined) continue
          count++
          histogram.recordValue(Math.max(1, Math.round((now() - (JSON.parse(String(message.data)) as { t: number }).t) * 1000)))
        }
      }
      return client.request({ topic: TOPIC.RECORD, action: RECORD_ACTION.SUBSCRIBECREATEANDREAD, names: [job.name], correlationId: 'r' })
    }))
    await armed()
    await start()
  } else if (job.role === 'writer') {
    await armed()
    const measured = start()
    let running = true
    void measured.then(() => { running = false })
    await Promise.all(protocolClients(clients, job.role).map((client, socket) => new Promise<void>((resolve) => {
      let inFlight = 0
      let sequence = 0
      // `topics` here means: spread the writes over that many records per socket instead of one.
      const records = job.topics?.size ?? 0
      const send = (t: number): void => {
        inFlight++
        const name = records === 0 ? job.name : `${job.name}/${socket}/${sequence % records}`
        client.send({ topic: TOPIC.RECORD, action: RECORD_ACTION.CREATEANDUPDATE, name, version: -1, data: JSON.stringify({ t }), isWriteAck: true, correlationId: String(sequence++) })
      }
      const write = (): void => {
        // At a fixed rate the schedule below sends; acks only count down what is in flight.
        if (job.rate === 0) while (running && inFlight < job.window) send(now())
        if (!running && inFlight === 0) resolve()
      }
      // The job's rate is shared by its sockets.
      if (job.rate > 0) void fixedSchedule(job.rate / clients.length, () => running, send)
      void measured.then(() => sleep(2000)).then(() => resolve())
      client.onMessage = (message) => {
        if (message.action !== RECORD_ACTION.WRITE_ACKNOWLEDGEMENT && message.isError !== true) return
        if (counting && message.action === RECORD_ACTION.WRITE_ACKNOWLEDGEMENT) count++
        inFlight--
        write()
      }
      write()
    })))
  } else if (job.role === 'subscribers' || job.role === 'provider') {
    await Promise.all(clients.map((client, socket) => {
      if (job.role === 'subscribers') {
        const index = socket + (job.topics === undefined ? 0 : job.count * Number(job.name.split('#')[1] ?? 0))
        const names = job.topics === undefined
          ? [job.name]
          : Array.from({ length: job.topics.size }, (_, i) => `${job.name.split('#')[0]}/${(index % job.topics!.groups) * job.topics!.size + i}`)
        client.onMessage = (message) => {
          if (!counting || message.action !== EVENT_ACTION.EMIT || message.data === undefined) return
          count++
          histogram.recordValue(Math.max(1, Math.round((now() - Number(message.data)) * 1000)))
        }
        return client.request({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names, correlationId: 's' })
      }
      if (client instanceof SocketIoClient) throw new Error('the provider role needs a deepstream protocol, not Socket.IO')
      client.onMessage = (message) => {
        if (message.action !== RPC_ACTION.REQUEST) return
        client.send({ topic: TOPIC.RPC, action: RPC_ACTION.ACCEPT, name: job.name, correlationId: message.correlationId })
        client.send({ topic: TOPIC.RPC, action: RPC_ACTION.RESPONSE, name: job.name, correlationId: message.correlationId, data: message.data })
      }
      return client.request({ topic: TOPIC.RPC, action: RPC_ACTION.PROVIDE, names: [job.name], correlationId: 'p' })
    }))
    // Armed once every subscription is acknowledged: the window measures deliveries, not subscribing.
    await armed()
    await start()
  } else if (job.role === 'publisher') {
    const [publisher, echo] = [clients[0], await connect(job.port, protocol)]
    await echo.request({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: [job.name], correlationId: 'e' })
    await armed()
    const measured = start()
    let running = true
    void measured.then(() => { running = false })
    const total = job.topics === undefined ? 0 : job.topics.groups * job.topics.size
    let cursor = 0
    const emit = (intended: number): void => {
      const name = total === 0 ? job.name : `${job.name}/${cursor++ % total}`
      publisher.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, data: intended.toFixed(3) })
      // Many topics: a marker per emit to the echo's own name keeps the window honest.
      if (total > 0) publisher.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: job.name, data: '0' })
      if (counting) count++
    }
    if (job.rate > 0) {
      await fixedSchedule(job.rate, () => running, emit)
    } else {
      let inFlight = 0
      await new Promise<void>((resolve) => {
        const pump = (): void => {
          while (running && inFlight < job.window) { inFlight++; emit(now()) }
          if (!running) resolve()
        }
        // A protobuf frame is one message; a native frame may hold several.
        if (echo instanceof SocketIoClient) echo.onMessage = () => { inFlight--; pump() }
        else echo.onFrame = (frame) => { inFlight -= protocol === 'native' ? echo.decode(frame).length : 1; pump() }
        pump()
      })
    }
    await measured
    await echo.close()
  } else {
    await armed()
    const measured = start()
    let running = true
    void measured.then(() => { running = false })
    // deepstream hands requestors' correlation ids to providers as they are: keep them unique across sockets.
    const prefix = Math.random().toString(36).slice(2, 8)
    await Promise.all(protocolClients(clients, job.role).map((client, socket) => new Promise<void>((resolve) => {
      let next = 0
      let inFlight = 0
      const sentAt = new Map<string, number>()
      const request = (): void => {
        while (running && inFlight < job.window) {
          inFlight++
          const id = `${prefix}-${socket}-${next++}`
          sentAt.set(id, now())
          client.send({ topic: TOPIC.RPC, action: RPC_ACTION.REQUEST, name: job.name, correlationId: id, data: '1' })
        }
        if (!running && inFlight === 0) resolve()
      }
      // Requests a server never answers must not hang the run.
      void measured.then(() => sleep(2000)).then(() => resolve())
      client.onMessage = (message) => {
        if (message.action !== RPC_ACTION.RESPONSE && message.isError !== true) return
        const started = sentAt.get(message.correlationId ?? '')
        sentAt.delete(message.correlationId ?? '')
        inFlight--
        if (counting && message.action === RPC_ACTION.RESPONSE && started !== undefined) {
          count++
          histogram.recordValue(Math.max(1, Math.round((now() - started) * 1000)))
        }
        request()
      }
      request()
    })))
  }
  await Promise.all(clients.map((client) => client.close()))
  return { count, bytes, histogram: histogram.totalCount > 0 ? hdr.encodeIntoCompressedBase64(histogram) : null }
}

if (parentPort !== null) {
  run(workerData as LoadJob).then((report) => parentPort?.postMessage({ type: 'done', report }), (error: unknown) => parentPort?.postMessage({ type: 'failed', error: errorStack(error) }))
}

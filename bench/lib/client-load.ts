/**
 * Fan-out latency with `@deepstream/client` 7 itself as the load, as a new user would measure it:
 * 50 subscribers and 2 publishers in this thread, `rate` emits per second in all on a fixed
 * schedule, 100-byte payloads carrying the time each was due (so latency is corrected for
 * coordinated omission). Heavier per message than the load workers' lean protobuf clients.
 */
import { createRequire } from 'node:module'
import * as hdr from 'hdr-histogram-js'
import type { Target } from './targets.js'
import { fixedSchedule } from './schedule.js'

const { DeepstreamClient } = createRequire(import.meta.url)('@deepstream/client') as typeof import('@deepstream/client')
type Client = InstanceType<typeof DeepstreamClient>

const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export interface ClientLatency { histogram: ReturnType<typeof hdr.build>, deliveries: number }

export async function clientFanOutLatency (target: Target, rate: number, seconds: number): Promise<ClientLatency> {
  const login = async (): Promise<Client> => {
    const client = new DeepstreamClient(`ws://127.0.0.1:${target.port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0 })
    client.on('error', () => {})
    await client.login({})
    return client
  }
  const subscribers = await Promise.all(Array.from({ length: 50 }, login))
  const publishers = await Promise.all(Array.from({ length: 2 }, login))
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  let counting = false
  const topic = `client-latency/${Date.now()}`
  const subscribed = subscribers.map((client) => new Promise<void>((ready) => {
    client.event.subscribe(topic, (data: unknown) => {
      const { t } = data as { t: number }
      if (t < 0) ready() // the probe: this subscription is live
      else if (counting) histogram.recordValue(Math.max(1, Math.round((now() - t) * 1000)))
    })
  }))
  // Probes until every subscriber has heard one, so no emit goes into the void.
  const probing = setInterval(() => publishers[0].event.emit(topic, { t: -1 }), 50)
  await Promise.all(subscribed)
  clearInterval(probing)
  const pad = 'x'.repeat(80)
  let running = true
  const schedule = fixedSchedule(rate, () => running, (due, index) => publishers[index % 2].event.emit(topic, { t: due, pad }))
  await sleep(1000)
  counting = true
  await sleep(seconds * 1000)
  counting = false
  running = false
  await schedule
  for (const client of [...subscribers, ...publishers]) client.close()
  return { histogram, deliveries: histogram.totalCount }
}

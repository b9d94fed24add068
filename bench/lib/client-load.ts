/**
 * Fan-out latency with `@deepstream/client` 7 itself as the load, as a new user would measure it:
 * 50 subscribers and 2 publishers in this thread, `rate` emits per second in all on a fixed
 * schedule, 100-byte payloads carrying the time each was due (so latency is corrected for
 * coordinated omission). Heavier per message than the load workers' lean protobuf clients.
 */
import { latencyHistogram, type Histogram } from './histogram.js'
import type { Target } from './targets.js'
import { fixedSchedule } from './schedule.js'
import { login, subscribeLive, type AppClient as Client } from './app-load.js'

const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export interface ClientLatency { histogram: Histogram, deliveries: number }

export async function clientFanOutLatency (target: Target, rate: number, seconds: number): Promise<ClientLatency> {
  const join = (): Promise<Client> => login('@deepstream/client', target.port)
  const subscribers = await Promise.all(Array.from({ length: 50 }, join))
  const publishers = await Promise.all(Array.from({ length: 2 }, join))
  const histogram = latencyHistogram(60_000_000)
  let counting = false
  const topic = `client-latency/${Date.now()}`
  // The probe carries t = -1; the measured emits carry the time each was due.
  await subscribeLive(subscribers, publishers[0], topic, { t: -1 }, (data) => (data as { t: number }).t < 0, (data) => {
    if (counting) histogram.recordValue(Math.max(1, Math.round((now() - (data as { t: number }).t) * 1000)))
  })
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

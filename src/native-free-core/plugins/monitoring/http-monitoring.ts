/**
 * monitoring type `http`: deepstream's monitoring endpoint, and more.
 *
 * - GET `url` (default /monitoring): deepstream's answer `{ from, to, ...stats }`
 *   with the message, login and error counts since the previous read (which
 *   resets them), added with riptide's: connections per worker, broadcasts,
 *   and percentiles of handling time and publish-to-delivery delay per topic.
 * - GET /metrics: the same, cumulative, in Prometheus' text format.
 * - GET `url`/live: a page that plots throughput and latency percentiles.
 *
 * Every request gathers the counts of all workers. Each needs the header
 * `headerKey: headerValue` (or, for the live page's own requests, the
 * `key` query parameter) unless `allowOpenPermissions`.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import { z } from 'zod'
import type { Monitoring, MonitoringHost } from './monitoring.js'
import type { Message } from '../../protocol/message.js'
import type { LogLevel } from '../logger/logger.js'
import type { HttpRequest, HttpResponse } from '../../http/http-routes.js'
import { parsePluginOptions } from '../../config/plugin-options.js'
import { TOPIC, topicName } from '../../protocol/constants.js'
import { merge, percentiles, WorkerStats, type MergedStats, type StatsSnapshot } from './stats.js'
import { livePage } from './live-page.js'
import { prometheus } from './prometheus.js'

const optionsSchema = z.object({
  url: z.string().startsWith('/').default('/monitoring'),
  headerKey: z.string().default('deepstream-password'),
  /** The secret: required unless allowOpenPermissions, as deepstream requires it; no default anyone could guess. */
  headerValue: z.string().min(1).optional(),
  allowOpenPermissions: z.boolean().default(false),
  metricsPath: z.string().startsWith('/').default('/metrics'),
}).strict().refine((options) => options.allowOpenPermissions || options.headerValue !== undefined, {
  path: ['headerValue'],
  message: 'is required (the secret the monitoring endpoints ask for in the headerKey header), unless allowOpenPermissions is true',
})

const SNAPSHOT = 'monitoring/snapshot'
const RESET = 'monitoring/reset'

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

export class HttpMonitoring implements Monitoring {
  readonly description = 'http monitoring'
  private readonly options: z.infer<typeof optionsSchema>
  private readonly stats = new WorkerStats()
  private host: MonitoringHost | null = null

  constructor (options: unknown) {
    this.options = parsePluginOptions(optionsSchema, options, 'monitoring http options')
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}

  onErrorLog (_level: LogLevel, event: string): void { this.stats.error(event) }
  onLogin (allowed: boolean, endpoint: string): void { this.stats.login(allowed, endpoint) }
  onMessageReceived (message: Message): void { this.stats.messageIn(message.topic, message.action) }
  onMessageSend (message: Message): void { this.stats.messageOut(message.topic, message.action) }
  onBroadcast (_message: Message, count: number): void { this.stats.broadcast(count) }
  onHandled (topic: number, micros: number): void { this.stats.handled(topicName(topic), micros) }
  onDelivered (topic: number, micros: number): void { this.stats.delivered(topicName(topic), micros) }

  onConnectionCount (count: number): void { this.stats.connections = count }

  attach (host: MonitoringHost): void {
    this.host = host
    host.answer(SNAPSHOT, () => ({ topic: TOPIC.MONITORING, action: 0, data: JSON.stringify(this.stats.snapshot()) }))
    host.answer(RESET, () => {
      this.stats.resetInterval()
      return { topic: TOPIC.MONITORING, action: 0 }
    })
    const { url, metricsPath } = this.options
    host.get(`${url}/live`, (request) => this.guarded(request, async () => {
      if (request.path === `${url}/live`) return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: livePage(`${url}/live/data`) }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(summary(await this.gather())) }
    }))
    host.get(metricsPath, (request) => this.guarded(request, async () => ({
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      body: prometheus(await this.gather()),
    })))
    host.get(url, (request) => this.guarded(request, async () => {
      if (request.path !== url) return { status: 404, body: '' }
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(await this.read()) }
    }))
  }

  private async guarded (request: HttpRequest, serve: () => Promise<HttpResponse>): Promise<HttpResponse> {
    if (!this.options.allowOpenPermissions && this.options.headerValue !== undefined) {
      const given = request.headers[this.options.headerKey.toLowerCase()] ?? new URLSearchParams(request.query ?? '').get('key') ?? ''
      // deepstream answers 404 to a request without the key.
      if (!timingSafeEqual(digest(given), digest(this.options.headerValue))) return { status: 404, body: '' }
    }
    return serve()
  }

  /** Every worker's stats, merged. */
  private async gather (): Promise<MergedStats> {
    const answers = this.host === null ? [] : await this.host.ask(SNAPSHOT, { topic: TOPIC.MONITORING, action: 0 })
    const snapshots: StatsSnapshot[] = [this.stats.snapshot(), ...answers.map((answer) => JSON.parse(String(answer.data ?? '{}')) as StatsSnapshot)]
    return merge(snapshots)
  }

  /** deepstream's answer: counts since the previous read, on any worker, which this read resets on every worker. */
  private async read (): Promise<Record<string, unknown>> {
    const now = await this.gather()
    this.stats.resetInterval()
    await this.host?.ask(RESET, { topic: TOPIC.MONITORING, action: 0 })
    return {
      from: now.since.from,
      to: now.at,
      clusterSize: now.workers,
      received: now.since.received,
      send: now.since.sent,
      logins: now.since.logins,
      errors: now.since.errors,
      ...summary(now),
    }
  }
}

/** Cumulative totals and percentiles, as the live page and the JSON answer show them. */
export function summary (stats: MergedStats): Record<string, unknown> {
  const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0)
  return {
    at: stats.at,
    workers: stats.workers,
    connections: stats.connections,
    totals: { received: sum(stats.received), sent: sum(stats.sent), broadcasts: stats.broadcasts, deliveries: stats.deliveries, errors: sum(stats.errors) },
    handlingMicros: Object.fromEntries(Object.entries(stats.handling).map(([topic, h]) => [topic, percentiles(h)])),
    deliveryMicros: Object.fromEntries(Object.entries(stats.delivery).map(([topic, h]) => [topic, percentiles(h)])),
  }
}

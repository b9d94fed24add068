/**
 * What one worker counts for monitoring: messages by topic and action in
 * and out, logins, errors by event, broadcasts, and HDR histograms (in
 * microseconds) of handling time per topic and of publish-to-delivery
 * delay. Counts only grow; readers take differences. A snapshot is plain
 * JSON (histograms as compressed base64), so it crosses threads as text.
 */
import * as hdr from 'hdr-histogram-js'

type Histogram = ReturnType<typeof hdr.build>

/** Counts since the last reset of deepstream's endpoint. */
export interface Since {
  from: number
  received: Record<string, number>
  sent: Record<string, number>
  errors: Record<string, number>
  logins: Record<string, { allowed: number, denied: number }>
}

export interface StatsSnapshot {
  at: number
  since: Since
  received: Record<string, number>
  sent: Record<string, number>
  logins: Record<string, { allowed: number, denied: number }>
  errors: Record<string, number>
  broadcasts: number
  deliveries: number
  connections: number
  handling: Record<string, string>
  delivery: Record<string, string>
}

export interface Percentiles { count: number, p50: number, p90: number, p99: number, p999: number, max: number }

function histogram (): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
}

function bump (map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by
}

export class WorkerStats {
  private readonly received: Record<string, number> = {}
  private readonly sent: Record<string, number> = {}
  private readonly logins: Record<string, { allowed: number, denied: number }> = {}
  private readonly errors: Record<string, number> = {}
  private broadcasts = 0
  private deliveries = 0
  connections = 0
  private readonly handling = new Map<string, Histogram>()
  private readonly delivery = new Map<string, Histogram>()
  private baseline: Since = { from: Date.now(), received: {}, sent: {}, errors: {}, logins: {} }

  /** Starts a new interval for deepstream's endpoint (its read resets the counts). */
  resetInterval (): void {
    this.baseline = { from: Date.now(), received: { ...this.received }, sent: { ...this.sent }, errors: { ...this.errors }, logins: structuredClone(this.logins) }
  }

  private since (): Since {
    const diff = (now: Record<string, number>, then: Record<string, number>): Record<string, number> =>
      Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (then[k] ?? 0)]).filter(([, n]) => (n as number) > 0))
    const { baseline } = this
    return {
      from: baseline.from,
      received: diff(this.received, baseline.received),
      sent: diff(this.sent, baseline.sent),
      errors: diff(this.errors, baseline.errors),
      logins: Object.fromEntries(Object.entries(this.logins).map(([endpoint, { allowed, denied }]) => [endpoint, {
        allowed: allowed - (baseline.logins[endpoint]?.allowed ?? 0),
        denied: denied - (baseline.logins[endpoint]?.denied ?? 0),
      }])),
    }
  }

  messageIn (topic: number, action: number): void { bump(this.received, `${topic}/${action}`) }
  messageOut (topic: number, action: number): void { bump(this.sent, `${topic}/${action}`) }
  error (event: string): void { bump(this.errors, event) }

  login (allowed: boolean, endpoint: string): void {
    const entry = this.logins[endpoint] ?? (this.logins[endpoint] = { allowed: 0, denied: 0 })
    if (allowed) entry.allowed++
    else entry.denied++
  }

  broadcast (deliveries: number): void {
    this.broadcasts++
    this.deliveries += deliveries
  }

  handled (topic: string, micros: number): void { record(this.handling, topic, micros) }
  delivered (topic: string, micros: number): void { record(this.delivery, topic, micros) }

  snapshot (): StatsSnapshot {
    const encode = (map: Map<string, Histogram>): Record<string, string> =>
      Object.fromEntries([...map].map(([topic, h]) => [topic, hdr.encodeIntoCompressedBase64(h)]))
    return {
      at: Date.now(),
      since: this.since(),
      received: { ...this.received },
      sent: { ...this.sent },
      logins: structuredClone(this.logins),
      errors: { ...this.errors },
      broadcasts: this.broadcasts,
      deliveries: this.deliveries,
      connections: this.connections,
      handling: encode(this.handling),
      delivery: encode(this.delivery),
    }
  }
}

function record (map: Map<string, Histogram>, topic: string, micros: number): void {
  let h = map.get(topic)
  if (h === undefined) map.set(topic, h = histogram())
  h.recordValue(Math.max(1, Math.min(60_000_000, Math.round(micros))))
}

/** Everything the workers reported, added up; histograms merged. */
export interface MergedStats {
  at: number
  since: Since
  workers: number
  connections: number[]
  received: Record<string, number>
  sent: Record<string, number>
  logins: Record<string, { allowed: number, denied: number }>
  errors: Record<string, number>
  broadcasts: number
  deliveries: number
  handling: Record<string, Histogram>
  delivery: Record<string, Histogram>
}

export function merge (snapshots: StatsSnapshot[]): MergedStats {
  const merged: MergedStats = { at: Date.now(), since: { from: Date.now(), received: {}, sent: {}, errors: {}, logins: {} }, workers: snapshots.length, connections: [], received: {}, sent: {}, logins: {}, errors: {}, broadcasts: 0, deliveries: 0, handling: {}, delivery: {} }
  for (const snapshot of snapshots) {
    merged.connections.push(snapshot.connections)
    for (const [key, n] of Object.entries(snapshot.received)) bump(merged.received, key, n)
    for (const [key, n] of Object.entries(snapshot.sent)) bump(merged.sent, key, n)
    for (const [key, n] of Object.entries(snapshot.errors)) bump(merged.errors, key, n)
    for (const [endpoint, { allowed, denied }] of Object.entries(snapshot.logins)) {
      const entry = merged.logins[endpoint] ?? (merged.logins[endpoint] = { allowed: 0, denied: 0 })
      entry.allowed += allowed
      entry.denied += denied
    }
    merged.since.from = Math.min(merged.since.from, snapshot.since.from)
    for (const key of ['received', 'sent', 'errors'] as const) {
      for (const [k, n] of Object.entries(snapshot.since[key])) bump(merged.since[key], k, n)
    }
    for (const [endpoint, { allowed, denied }] of Object.entries(snapshot.since.logins)) {
      const entry = merged.since.logins[endpoint] ?? (merged.since.logins[endpoint] = { allowed: 0, denied: 0 })
      entry.allowed += allowed
      entry.denied += denied
    }
    merged.broadcasts += snapshot.broadcasts
    merged.deliveries += snapshot.deliveries
    for (const [field, source] of [['handling', snapshot.handling], ['delivery', snapshot.delivery]] as const) {
      for (const [topic, encoded] of Object.entries(source)) {
        const target = merged[field][topic] ?? (merged[field][topic] = histogram())
        target.add(hdr.decodeFromCompressedBase64(encoded))
      }
    }
  }
  return merged
}

export function percentiles (h: Histogram): Percentiles {
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  }
}

/**
 * What one worker counts for monitoring: messages by topic and action in
 * and out, logins, errors by event, broadcasts, and HDR histograms (in
 * microseconds) of handling time per topic and of publish-to-delivery
 * delay. Counts only grow; readers take differences. A snapshot is plain
 * JSON (histograms as compressed base64), so it crosses threads as text.
 */
import * as hdr from 'hdr-histogram-js'

type Histogram = ReturnType<typeof hdr.build>

/** Messages by `topic/action` in and out, errors by event, logins by endpoint. */
export interface Counts {
  received: Record<string, number>
  sent: Record<string, number>
  errors: Record<string, number>
  logins: Record<string, { allowed: number, denied: number }>
}

/** Counts since the last reset of deepstream's endpoint. */
export interface Since extends Counts {
  from: number
}

export interface StatsSnapshot extends Counts {
  at: number
  since: Since
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

function emptyCounts (): Counts {
  return { received: {}, sent: {}, errors: {}, logins: {} }
}

function copyCounts (counts: Counts): Counts {
  return { received: { ...counts.received }, sent: { ...counts.sent }, errors: { ...counts.errors }, logins: structuredClone(counts.logins) }
}

/** Adds `source`'s counts into `target`. */
function addCounts (target: Counts, source: Counts): void {
  for (const key of ['received', 'sent', 'errors'] as const) {
    for (const [k, n] of Object.entries(source[key])) bump(target[key], k, n)
  }
  for (const [endpoint, { allowed, denied }] of Object.entries(source.logins)) {
    const entry = target.logins[endpoint] ?? (target.logins[endpoint] = { allowed: 0, denied: 0 })
    entry.allowed += allowed
    entry.denied += denied
  }
}

export class WorkerStats {
  private readonly counts: Counts = emptyCounts()
  private broadcasts = 0
  private deliveries = 0
  connections = 0
  private readonly handling = new Map<string, Histogram>()
  private readonly delivery = new Map<string, Histogram>()
  private baseline: Since = { from: Date.now(), ...emptyCounts() }

  /** Starts a new interval for deepstream's endpoint (its read resets the counts). */
  resetInterval (): void {
    this.baseline = { from: Date.now(), ...copyCounts(this.counts) }
  }

  private since (): Since {
    const diff = (now: Record<string, number>, then: Record<string, number>): Record<string, number> =>
      Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (then[k] ?? 0)]).filter(([, n]) => (n as number) > 0))
    const { baseline, counts } = this
    return {
      from: baseline.from,
      received: diff(counts.received, baseline.received),
      sent: diff(counts.sent, baseline.sent),
      errors: diff(counts.errors, baseline.errors),
      logins: Object.fromEntries(Object.entries(counts.logins).map(([endpoint, { allowed, denied }]) => [endpoint, {
        allowed: allowed - (baseline.logins[endpoint]?.allowed ?? 0),
        denied: denied - (baseline.logins[endpoint]?.denied ?? 0),
      }])),
    }
  }

  messageIn (topic: number, action: number): void { bump(this.counts.received, `${topic}/${action}`) }
  messageOut (topic: number, action: number): void { bump(this.counts.sent, `${topic}/${action}`) }
  error (event: string): void { bump(this.counts.errors, event) }

  login (allowed: boolean, endpoint: string): void {
    const entry = this.counts.logins[endpoint] ?? (this.counts.logins[endpoint] = { allowed: 0, denied: 0 })
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
      ...copyCounts(this.counts),
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
export interface MergedStats extends Counts {
  at: number
  since: Since
  workers: number
  connections: number[]
  broadcasts: number
  deliveries: number
  handling: Record<string, Histogram>
  delivery: Record<string, Histogram>
}

export function merge (snapshots: StatsSnapshot[]): MergedStats {
  const merged: MergedStats = { at: Date.now(), since: { from: Date.now(), ...emptyCounts() }, workers: snapshots.length, connections: [], ...emptyCounts(), broadcasts: 0, deliveries: 0, handling: {}, delivery: {} }
  for (const snapshot of snapshots) {
    merged.connections.push(snapshot.connections)
    addCounts(merged, snapshot)
    merged.since.from = Math.min(merged.since.from, snapshot.since.from)
    addCounts(merged.since, snapshot.since)
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

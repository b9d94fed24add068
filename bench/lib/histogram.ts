/** The benches' latency histogram: microseconds, from 1 µs up to `highestMicros`, 3 significant digits. */
import * as hdr from 'hdr-histogram-js'

export type Histogram = ReturnType<typeof hdr.build>

export function latencyHistogram (highestMicros = 120_000_000): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: highestMicros, numberOfSignificantValueDigits: 3 })
}

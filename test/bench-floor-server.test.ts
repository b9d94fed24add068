import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFloor, type Target } from '../bench/lib/targets.js'
import { probeNativeUws } from '../src/native-adapters/http/uws-native.js'
// The built bench (npm test builds first): the load generator runs its jobs in worker threads
// started from its compiled files.
import { runLoad } from '../dist/bench/lib/load.js'
import { ACKED_WRITES, FAN_OUT_1000, fanOut100, jobsFor, MANY_TOPICS, measuredReports, RECORD_UPDATES, RPC } from '../dist/bench/lib/workloads.js'

// `npm run bench:floor` drives these workloads against the floor server; the load generator arms a
// job only once the server has acknowledged its subscriptions, so a floor that leaves one
// unacknowledged stops the bench after 30 s (as a record subscription did until it was acked).
const native = 'uws' in probeNativeUws()

describe.runIf(native)('the floor server serves every workload of bench:floor', () => {
  let floor: Target
  beforeAll(async () => { floor = await startFloor() })
  afterAll(async () => { await floor.stop() })

  for (const workload of [fanOut100(0), FAN_OUT_1000, MANY_TOPICS, ACKED_WRITES, RECORD_UPDATES, RPC]) {
    it(workload.label, async () => {
      const jobs = jobsFor(workload, `floor-test-${Date.now()}`, floor.port, 0.3).map((job) => ({ ...job, warmupMs: 100 }))
      const { reports } = await runLoad(jobs)
      for (const report of measuredReports(workload, reports)) expect(report.count).toBeGreaterThan(0)
    })
  }
})

// On a Node line where uWebSockets.js has no native binary (22 and 24 here) the floor would run on
// its JS fallback and measure nothing: it refuses to start, and says why.
describe.runIf(!native)('the floor server without uWS\'s native binary', () => {
  it('refuses to start, naming the missing binary', async () => {
    await expect(startFloor()).rejects.toThrow(/no native binary/)
  })
})

import { describe, expect, it } from 'vitest'
import { dueCount, fixedSchedule } from '../bench/lib/schedule.js'

describe('the benches\' fixed-rate schedule', () => {
  it('counts a message due from its own time, not from the end of its period', () => {
    expect(dueCount(0, 100)).toBe(1)
    expect(dueCount(9.99, 100)).toBe(1)
    expect(dueCount(10, 100)).toBe(2)
    expect(dueCount(1000, 30)).toBe(31)
  })

  it('sends the first message at once, with the time the schedule began', async () => {
    const sent: Array<{ due: number, index: number }> = []
    let checks = 0
    const before = performance.timeOrigin + performance.now()
    // One look at the schedule: at a rate of 1/s only message 0 is due, and it is due now.
    await fixedSchedule(1, () => checks++ === 0, (due, index) => sent.push({ due, index }))
    const after = performance.timeOrigin + performance.now()
    expect(sent.map(({ index }) => index)).toEqual([0])
    expect(sent[0].due).toBeGreaterThanOrEqual(before)
    expect(sent[0].due).toBeLessThanOrEqual(after)
  })
})

/**
 * Timeouts of few durations on one timer per duration (RPC ack and response timeouts, cache and
 * storage deadlines): they fire in the order set, cleared ones never fire, and close stops them all.
 */
import { describe, expect, it } from 'vitest'
import { Timeouts } from '../src/native-free-core/timeouts.js'

describe('timeouts', () => {
  it('fire in order, each after its duration, except those cleared; durations mix', async () => {
    const timeouts = new Timeouts()
    const fired: string[] = []
    const started = Date.now()
    const at: Record<string, number> = {}
    const all = new Promise<void>((done) => {
      const fire = (name: string) => () => {
        fired.push(name)
        at[name] = Date.now() - started
        if (fired.length === 4) done()
      }
      timeouts.set(30, fire('a'))
      const cleared = timeouts.set(30, fire('cleared'))
      timeouts.set(30, fire('b'))
      timeouts.set(5, fire('short'))
      timeouts.clear(cleared)
      timeouts.clear(cleared) // twice is harmless
      timeouts.set(60, fire('long'))
    })
    await all
    expect(fired).toEqual(['short', 'a', 'b', 'long'])
    expect(at.a).toBeGreaterThanOrEqual(29)
    expect(at.long).toBeGreaterThanOrEqual(59)
    timeouts.close()
  })

  it('a timeout set from an expiring one fires too; close stops the rest', async () => {
    const timeouts = new Timeouts()
    let late = false
    await new Promise<void>((done) => {
      timeouts.set(5, () => { timeouts.set(5, done) })
    })
    timeouts.set(5, () => { late = true })
    timeouts.close()
    // A live timer of the same duration, set after close, proves the closed one's time has passed.
    await new Promise<void>((done) => { timeouts.set(20, done) })
    expect(late).toBe(false)
    timeouts.close()
  })

  it('lets cleared timeouts go from the front of a long queue', () => {
    const timeouts = new Timeouts()
    const set = Array.from({ length: 5000 }, () => timeouts.set(1000, () => { throw new Error('cleared timeouts never fire') }))
    for (const timeout of set) timeouts.clear(timeout)
    expect(set[0].queue.entries).toHaveLength(0)
    timeouts.close()
  })
})

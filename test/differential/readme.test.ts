/** The README's list of differences found by the differential suite is the suite's own list. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { KNOWN_DIFFERENCES } from './known-differences.js'

describe('differential: the README', () => {
  it('lists exactly the scenarios known to differ from deepstream', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const start = readme.indexOf('Differences the differential suite measures')
    expect(start, 'the README has the differential list').toBeGreaterThan(0)
    const section = readme.slice(start, readme.indexOf('\n\n', readme.indexOf('\n- ', start)))
    const listed = [...section.matchAll(/^- `([^`]+)`/gm)].map((match) => match[1])
    expect(listed.sort()).toEqual(Object.keys(KNOWN_DIFFERENCES).sort())
  })
})

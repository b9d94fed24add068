/**
 * Listen patterns are regular expressions written by clients and run
 * against every subscribed name, on V8's backtracking engine. A pattern
 * whose matching time can explode (a quantified group that itself holds a
 * quantifier or an alternation, like `(a+)+$` or `(a|a)*`; a
 * backreference) is refused with INVALID_LISTEN_REGEX instead of compiled.
 * What is left runs in time polynomial in the name's length, and names
 * are bounded by the message size limit.
 */

/** The longest listen pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 1000

/** Why `pattern` may backtrack catastrophically, or null when it is safe to run. */
export function unsafeRegexReason (pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `a pattern is at most ${MAX_PATTERN_LENGTH} characters`
  // Per open group: does it contain a quantifier or an alternation?
  const groups: boolean[] = []
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return 'backreferences are not allowed'
      i++
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
      continue
    }
    if (c === '[') { inClass = true; continue }
    if (c === '(') { groups.push(false); continue }
    const quantifier = quantifierAt(pattern, i)
    if (c === ')') {
      const risky = groups.pop() ?? false
      const next = quantifierAt(pattern, i + 1)
      if (risky && next !== null && next.repeats) return 'a repeated group must not itself repeat or alternate (nested quantifiers backtrack exponentially)'
      if (groups.length > 0 && (risky || next !== null)) groups[groups.length - 1] = true
      continue
    }
    if (c === '|' && groups.length > 0) { groups[groups.length - 1] = true; continue }
    if (quantifier !== null && groups.length > 0) groups[groups.length - 1] = true
  }
  return null
}

/** The quantifier starting at `i`, if any, and whether it can repeat more than once. */
function quantifierAt (pattern: string, i: number): { repeats: boolean } | null {
  const c = pattern[i]
  if (c === '*' || c === '+') return { repeats: true }
  if (c === '?') return { repeats: false }
  if (c === '{') {
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i))
    if (braces === null) return null
    const max = braces[2] === undefined ? Number(braces[1]) : braces[3] === '' ? Infinity : Number(braces[3])
    return { repeats: max > 1 }
  }
  return null
}

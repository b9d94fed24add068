import { z } from 'zod'
import type { JSONValue } from './message.js'

/** Any JSON value, for validating user data in config files and HTTP bodies. */
export const jsonValueSchema: z.ZodType<JSONValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]))

/** Deepest nesting of objects and arrays accepted in client data (deeper JSON is refused, not parsed). */
export const MAX_JSON_DEPTH = 256

/** Whether JSON text nests objects and arrays deeper than `max`, found without parsing it. */
export function jsonTooDeep (text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

import { z } from 'zod'
import type { JSONValue } from './message.js'

/** Any JSON value, for validating user data in config files and HTTP bodies. */
export const jsonValueSchema: z.ZodType<JSONValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]))

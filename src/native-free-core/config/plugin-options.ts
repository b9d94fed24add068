/**
 * Checks a plugin's `options` against its schema, and turns the first problem into a startup error
 * that names the key: `cache.options.url: Invalid url`, `auth token options.tokens: Required`.
 */
import type { z } from 'zod'
import { ConfigError } from '../errors.js'

export function parsePluginOptions<T extends z.ZodTypeAny> (schema: T, options: unknown, section: string): z.infer<T> {
  const parsed = schema.safeParse(options ?? {})
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  // An unknown key (a strict object) is reported on the object, with the keys beside it.
  const keys = [...issue.path, ...((issue as { keys?: string[] }).keys ?? [])]
  throw new ConfigError(`${[section, ...keys].join('.')}: ${issue.message}`)
}

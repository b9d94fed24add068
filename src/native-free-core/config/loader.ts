/**
 * Reads a config file in deepstream's format: YAML or JSON, `${ENV}`
 * replaced by the environment (empty when unset), `file(p)` made absolute
 * against the config's folder, `fileLoad(p)` replaced by the parsed YAML or
 * JSON of that file (the raw text for other files).
 */
import { readFileSync, existsSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { configSchema, UNSUPPORTED_KEYS, type RiptideConfig } from './schema.js'
import { ConfigError, RiptideError, errorMessage } from '../errors.js'

export interface LoadedConfig {
  config: RiptideConfig
  /** The config file, or null for the built-in defaults. */
  file: string | null
  configDir: string
  warnings: string[]
}

const ENV_VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g
const FILE_DIRECTIVE = /^\s*file\((.+)\)\s*$/
const FILE_LOAD_DIRECTIVE = /^\s*fileLoad\((.+)\)\s*$/

function readText (file: string, referencedFrom: string): string {
  if (!existsSync(file)) throw new RiptideError('RT_CONFIG_NOT_FOUND', `${referencedFrom}: file ${file} does not exist`)
  return readFileSync(file, 'utf8')
}

function parseStructured (text: string, file: string): unknown {
  try {
    return extname(file) === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new ConfigError(`${file}: cannot parse: ${errorMessage(error)}`, { cause: error })
  }
}

function substituteEnv (text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(ENV_VAR, (_match, name: string) => env[name] ?? '')
}

function applyDirectives (value: unknown, dir: string, file: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    const fileMatch = FILE_DIRECTIVE.exec(value)
    if (fileMatch !== null) return resolve(dir, fileMatch[1].trim())
    const loadMatch = FILE_LOAD_DIRECTIVE.exec(value)
    if (loadMatch !== null) {
      const target = resolve(dir, loadMatch[1].trim())
      const text = substituteEnv(readText(target, file), env)
      const ext = extname(target)
      if (ext === '.yml' || ext === '.yaml' || ext === '.json') {
        return applyDirectives(parseStructured(text, target), dirname(target), target, env)
      }
      return text
    }
    return value
  }
  if (Array.isArray(value)) return value.map((item) => applyDirectives(item, dir, file, env))
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = applyDirectives(item, dir, file, env)
    return out
  }
  return value
}

function describe (issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.')
  return `"${key === '' ? '(top level)' : key}": ${issue.message}`
}

function deleteAt (root: unknown, path: PropertyKey[], keys: string[]): void {
  let node = root
  for (const step of path) node = (node as Record<PropertyKey, unknown>)[step]
  for (const key of keys) Reflect.deleteProperty(node as object, key)
}

/** Validates a raw config object; unknown keys become warnings, anything else an error. */
export function validateConfig (raw: unknown, file: string): { config: RiptideConfig, warnings: string[] } {
  const warnings: string[] = []
  const input = structuredClone(raw ?? {}) as Record<string, unknown>
  if (typeof input !== 'object' || Array.isArray(input)) throw new ConfigError(`${file}: the config must be a map of keys`)
  for (const [key, why] of Object.entries(UNSUPPORTED_KEYS)) {
    if (key in input) {
      warnings.push(`${file}: key "${key}" is not supported and is ignored (${why})`)
      Reflect.deleteProperty(input, key)
    }
  }
  const first = configSchema.safeParse(input)
  if (first.success) return { config: first.data, warnings }
  const errors = first.error.issues.filter((issue) => issue.code !== 'unrecognized_keys')
  if (errors.length > 0) {
    throw new ConfigError(`invalid config ${file}: ${errors.map(describe).join('; ')}`)
  }
  for (const issue of first.error.issues) {
    if (issue.code !== 'unrecognized_keys') continue
    const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : ''
    for (const key of issue.keys) warnings.push(`${file}: key "${prefix}${key}" is not supported and is ignored`)
    deleteAt(input, issue.path, issue.keys)
  }
  const second = configSchema.safeParse(input)
  if (!second.success) throw new ConfigError(`invalid config ${file}: ${second.error.issues.map(describe).join('; ')}`)
  return { config: second.data, warnings }
}

export function loadConfigFile (path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const file = resolve(path)
  const dir = dirname(file)
  const raw = parseStructured(substituteEnv(readText(file, 'riptide'), env), file)
  const { config, warnings } = validateConfig(applyDirectives(raw, dir, file, env), file)
  return { config, file, configDir: dir, warnings }
}

/**
 * The built-in defaults, used when no config file is given or found: ws-binary, ws-json, ws-native
 * and http endpoints, open auth and permissions, and records kept durably in LMDB under `./data`
 * (as the shipped conf/config.yml keeps them), never only in memory.
 */
export function defaultConfig (): LoadedConfig {
  const raw = { cache: { type: 'lmdb', options: { path: './data' } }, storage: { type: 'none' } }
  return { ...validateConfig(raw, '(defaults)'), file: null, configDir: process.cwd() }
}

/**
 * The folders searched for `config.yml` / `.yaml` / `.json` when no `--config` is given, in order:
 * `$DEEPSTREAM_CONFIG_DIRECTORY`, `./conf`, `../conf` (as deepstream does), `/etc/deepstream/conf`,
 * then the `conf` folder of the installed package (`packageConf`).
 */
export function configSearchDirs (cwd: string, env: NodeJS.ProcessEnv = process.env, packageConf?: string): string[] {
  const dirs = [env.DEEPSTREAM_CONFIG_DIRECTORY, resolve(cwd, 'conf'), resolve(cwd, '..', 'conf'), '/etc/deepstream/conf', packageConf]
  return dirs.filter((d): d is string => typeof d === 'string' && d !== '')
}

/** The config file to use when none is given (see configSearchDirs), or null. */
export function findConfigFile (cwd: string, env: NodeJS.ProcessEnv = process.env, packageConf?: string): string | null {
  for (const dir of configSearchDirs(cwd, env, packageConf)) {
    for (const ext of ['.yml', '.yaml', '.json']) {
      const candidate = resolve(dir, `config${ext}`)
      if (existsSync(candidate)) return candidate
    }
  }
  return null
}

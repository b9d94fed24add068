#!/usr/bin/env node
/**
 * riptide's command line:
 *   riptide start [--config FILE] [--host H] [--port P] [--workers N] [--log-level L]
 *                 [--disable-auth] [--disable-permissions]
 *   riptide hash <password> [--config FILE]
 */
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { RiptideError, errorMessage, errorStack } from '../native-free-core/errors.js'
import { configSearchDirs, defaultConfig, findConfigFile, loadConfigFile, type LoadedConfig } from '../native-free-core/config/loader.js'
import { PACKAGE_ROOT } from '../native-adapters/compiled-module.js'
import { parseLogLevel } from '../native-free-core/plugins/logger/logger.js'
import { hashPassword } from '../native-free-core/plugins/auth/file-authentication.js'
import { Supervisor } from './supervisor.js'
import { createLogger } from '../native-free-core/builtins.js'

const USAGE = `usage:
  riptide start [--config FILE] [--host HOST] [--port PORT] [--workers N] [--log-level LEVEL]
                [--disable-auth] [--disable-permissions]
  riptide hash <password> [--config FILE]`

function fail (message: string): never {
  process.stderr.write(`riptide: ${message}\n`)
  process.exit(1)
}

const PACKAGE_CONF = join(PACKAGE_ROOT, 'conf')

function loadConfig (file: string | undefined): LoadedConfig {
  const path = file ?? findConfigFile(process.cwd(), process.env, PACKAGE_CONF)
  return path === null ? defaultConfig() : loadConfigFile(path)
}

/** Which config a start uses, said once at start-up. */
function describeConfig (loaded: LoadedConfig): string {
  if (loaded.file !== null) return `config ${loaded.file}`
  const searched = configSearchDirs(process.cwd(), process.env, PACKAGE_CONF).join(', ')
  return `no config file found (searched ${searched}); built-in defaults: open auth and permissions, records in LMDB under ${join(process.cwd(), 'data')}`
}

async function start (values: Record<string, string | boolean | undefined>): Promise<void> {
  const loaded = loadConfig(values.config as string | undefined)
  const { config } = loaded
  if (typeof values.host === 'string') config.httpServer.options.host = values.host
  if (typeof values.port === 'string') {
    const port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got "${values.port}"`)
    config.httpServer.options.port = port
  }
  if (typeof values['log-level'] === 'string') {
    if (parseLogLevel(values['log-level']) === null) fail(`--log-level must be one of debug, info, warn, error, off; got "${values['log-level']}"`)
    config.logLevel = values['log-level']
  }
  if (typeof values.workers === 'string') {
    if (values.workers !== 'auto' && !/^[1-9]\d*$/.test(values.workers)) fail(`--workers must be "auto" or a positive whole number, got "${values.workers}"`)
    config.workers = values.workers === 'auto' ? 'auto' : Number(values.workers)
  }
  if (values['disable-auth'] === true) config.auth = [{ type: 'none', options: {} }]
  if (values['disable-permissions'] === true) config.permission = { type: 'none', options: {} }
  const logger = createLogger(config.logger, config.logLevel)
  logger.info('CONFIG', describeConfig(loaded))
  for (const warning of loaded.warnings) logger.warn('CONFIG_WARNING', warning)
  // Signals are handled from the start: one that arrives while workers start stops them once started.
  let stopping = false
  let started: Supervisor | null = null
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info('SERVER_STOPPING', `${signal} received, shutting down`)
    if (started === null) return
    started.close().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`riptide: error while stopping: ${String(error)}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  // SIGHUP reloads the permission rules; a bad file is refused and the rules in force stay.
  process.on('SIGHUP', () => {
    if (started === null || stopping) return
    started.reloadPermissions().then((errors) => {
      if (errors.length === 0) logger.info('PERMISSIONS_RELOADED', 'SIGHUP: permission rules reloaded on every worker')
      for (const error of errors) logger.error('PERMISSION_RELOAD_FAILED', `SIGHUP: ${error}; the previous rules stay in force`)
    }, (error: unknown) => logger.error('PERMISSION_RELOAD_FAILED', String(error)))
  })
  started = await Supervisor.start({ ...loaded, warnings: [] }, { workers: config.workers, logger })
  if (stopping) {
    stopping = false
    stop('signal during start-up')
  }
}

async function hash (password: string | undefined, values: Record<string, string | boolean | undefined>): Promise<void> {
  if (password === undefined) fail('hash needs a password')
  const { config } = loadConfig(values.config as string | undefined)
  const auths = Array.isArray(config.auth) ? config.auth : [config.auth]
  const file = auths.find((a) => a.type === 'file')?.options ?? {}
  const settings = {
    hash: typeof file.hash === 'string' ? file.hash : 'md5',
    iterations: typeof file.iterations === 'number' ? file.iterations : 100,
    keyLength: typeof file.keyLength === 'number' ? file.keyLength : 32,
  }
  process.stdout.write(`${await hashPassword(password, settings)}\n`)
}

async function main (): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        host: { type: 'string' },
        port: { type: 'string' },
        workers: { type: 'string' },
        'log-level': { type: 'string' },
        'disable-auth': { type: 'boolean' },
        'disable-permissions': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    fail(`${errorMessage(error)}\n${USAGE}`)
  }
  const [command = 'start', ...rest] = parsed.positionals
  if (parsed.values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  if (command === 'start') await start(parsed.values)
  else if (command === 'hash') await hash(rest[0], parsed.values)
  else fail(`unknown command "${command}"\n${USAGE}`)
}

main().catch((error: unknown) => {
  if (error instanceof RiptideError) fail(`${error.code}: ${error.message}`)
  fail(errorStack(error))
})

/**
 * The config file schema: deepstream 7's format, with
 * deepstream's defaults (docs/config.md lists both). Objects are strict so that
 * unknown keys are found; the loader turns those into warnings and wrong
 * types into errors that name the key and the file.
 */
import { z } from 'zod'
import { DEFAULT_MAX_SEND_BUFFER } from '../connection/transport.js'

const options = z.record(z.string(), z.unknown())
const ms = z.number().int().nonnegative()

export const pluginRefSchema = z.object({
  type: z.string().optional(),
  name: z.string().optional(),
  path: z.string().optional(),
  options: options.default({}),
}).strict()
export type PluginRef = z.infer<typeof pluginRefSchema>

export const socketEndpointOptions = z.object({
  urlPath: z.string().startsWith('/').optional(),
  heartbeatInterval: ms.default(30000),
  outgoingBufferTimeout: ms.default(0),
  maxBufferByteSize: ms.default(100000),
  logInvalidAuthData: z.boolean().default(false),
  unauthenticatedClientTimeout: z.union([ms, z.literal(false)]).default(180000),
  maxAuthAttempts: z.number().int().positive().default(3),
  maxMessageSize: z.number().int().positive().default(1048576),
  headers: z.array(z.string()).default([]),
  /** Bytes a socket may have queued unsent before it is closed as a slow consumer. */
  maxSendBuffer: z.number().int().positive().default(DEFAULT_MAX_SEND_BUFFER),
  /** Names a socket may subscribe to per topic (records, events, presence, rpc provides). */
  maxSubscriptions: z.number().int().positive().default(100_000),
  /** Invalid messages (parse errors, unknown topics, bad fields) a socket may send in 10 s before it is closed. */
  maxInvalidMessages: z.number().int().positive().default(20),
}).strict()
export type SocketEndpointOptions = z.infer<typeof socketEndpointOptions>

const httpEndpointOptions = z.object({
  allowAuthData: z.boolean().default(true),
  enableAuthEndpoint: z.boolean().default(true),
  postPath: z.string().startsWith('/').default('/api'),
  getPath: z.string().startsWith('/').default('/api'),
  authPath: z.string().startsWith('/').default('/api/auth'),
  logInvalidAuthData: z.boolean().default(false),
  requestTimeout: ms.default(20000),
}).strict()
export type HttpEndpointOptions = z.infer<typeof httpEndpointOptions>

const builtinEndpointSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ws-binary'), options: socketEndpointOptions.default(socketEndpointOptions.parse({})) }).strict(),
  z.object({ type: z.literal('ws-json'), options: socketEndpointOptions.default(socketEndpointOptions.parse({})) }).strict(),
  z.object({ type: z.literal('ws-native'), options: socketEndpointOptions.default(socketEndpointOptions.parse({})) }).strict(),
  z.object({ type: z.literal('http'), options: httpEndpointOptions.default(httpEndpointOptions.parse({})) }).strict(),
])
/** Built-in endpoints by type; a custom one by path or npm name. */
const endpointSchema = z.union([builtinEndpointSchema, pluginRefSchema.refine((ref) => ref.path !== undefined || ref.name !== undefined, {
  message: 'an endpoint needs type ws-binary, ws-json, ws-native or http, or a path or name for a custom endpoint',
})])
export type EndpointConfig = z.infer<typeof endpointSchema>
export type BuiltinEndpointConfig = z.infer<typeof builtinEndpointSchema>
export function isBuiltinEndpoint (entry: EndpointConfig): entry is BuiltinEndpointConfig {
  return entry.type === 'ws-binary' || entry.type === 'ws-json' || entry.type === 'ws-native' || entry.type === 'http'
}

const httpServerSchema = z.object({
  type: z.enum(['default', 'uws', 'node', 'ws']).default('default'),
  options: z.object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(6020),
    healthCheckPath: z.string().startsWith('/').default('/health-check'),
    allowAllOrigins: z.boolean().default(true),
    origins: z.array(z.string()).default([]),
    maxMessageSize: z.number().int().positive().default(1048576),
    headers: z.array(z.string()).default([]),
  }).strict().default({ host: '0.0.0.0', port: 6020, healthCheckPath: '/health-check', allowAllOrigins: true, origins: [], maxMessageSize: 1048576, headers: [] }),
}).strict()

const oneOrMany = z.union([pluginRefSchema, z.array(pluginRefSchema)])

export const configSchema = z.object({
  serverName: z.string().default('UUID'),
  logLevel: z.union([z.string(), z.number()]).default('INFO'),
  dependencyInitializationTimeout: ms.default(2000),
  exitOnFatalError: z.boolean().default(false),
  enabledFeatures: z.object({
    record: z.boolean().default(true),
    event: z.boolean().default(true),
    rpc: z.boolean().default(true),
    presence: z.boolean().default(true),
    monitoring: z.boolean().default(false),
  }).strict().default({ record: true, event: true, rpc: true, presence: true, monitoring: false }),
  rpc: z.object({
    ackTimeout: ms.default(1000),
    responseTimeout: ms.default(10000),
    provideRequestorName: z.boolean().default(false),
    provideRequestorData: z.boolean().default(false),
  }).strict().default({ ackTimeout: 1000, responseTimeout: 10000, provideRequestorName: false, provideRequestorData: false }),
  record: z.object({
    cacheRetrievalTimeout: ms.default(1000),
    storageRetrievalTimeout: ms.default(2000),
    storageExclusionPrefixes: z.array(z.string()).default([]),
    storageHotPathPrefixes: z.array(z.string()).default([]),
  }).strict().default({ cacheRetrievalTimeout: 1000, storageRetrievalTimeout: 2000, storageExclusionPrefixes: [], storageHotPathPrefixes: [] }),
  listen: z.object({
    shuffleProviders: z.boolean().default(true),
    responseTimeout: ms.default(500),
    rematchInterval: ms.default(30000),
    matchCooldown: ms.default(10000),
  }).strict().default({ shuffleProviders: true, responseTimeout: 500, rematchInterval: 30000, matchCooldown: 10000 }),
  /** Administration over HTTP: with a token, `POST <path>/permissions/reload` reloads the permission rules. */
  admin: z.object({
    token: z.string().min(16, 'the admin token must be at least 16 characters').optional(),
    path: z.string().startsWith('/').default('/admin'),
  }).strict().default({ path: '/admin' }),
  /** Connection worker threads: `auto` (one per core) or 1 to 32. Read by `riptide start`. */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(32)]).default('auto'),
  /** What runs the connection workers: long-lived tasks of a Piscina pool, or plain worker threads. */
  workerRunner: z.enum(['piscina', 'threads']).default('piscina'),
  httpServer: httpServerSchema.default(httpServerSchema.parse({})),
  connectionEndpoints: z.array(endpointSchema.nullable()).default([
    { type: 'ws-binary', options: socketEndpointOptions.parse({}) },
    { type: 'ws-json', options: socketEndpointOptions.parse({}) },
    { type: 'ws-native', options: socketEndpointOptions.parse({}) },
    { type: 'http', options: httpEndpointOptions.parse({}) },
  ]),
  logger: pluginRefSchema.default({ type: 'default', options: {} }),
  auth: oneOrMany.default([{ type: 'none', options: {} }]),
  permission: pluginRefSchema.default({ type: 'none', options: {} }),
  cache: pluginRefSchema.default({ type: 'default', options: {} }),
  storage: pluginRefSchema.default({ type: 'default', options: {} }),
  monitoring: oneOrMany.default({ type: 'none', options: {} }),
  locks: pluginRefSchema.default({ type: 'default', options: {} }),
  clusterNode: pluginRefSchema.default({ type: 'default', options: {} }),
  clusterRegistry: pluginRefSchema.default({ type: 'default', options: {} }),
  clusterStates: pluginRefSchema.default({ type: 'default', options: {} }),
  subscriptions: pluginRefSchema.default({ type: 'default', options: {} }),
  plugins: z.record(z.string(), pluginRefSchema.nullable()).default({}),
}).strict()

export type RiptideConfig = z.infer<typeof configSchema>

/** Keys of deepstream's format that riptide reads but does not act on: one warning each. */
export const UNSUPPORTED_KEYS: Readonly<Record<string, string>> = {
  showLogo: 'riptide prints no logo',
  libDir: 'plugins are resolved by path or npm name',
  telemetry: 'riptide sends no telemetry',
}

/** The built-in defaults against the conformance suite of their kind. */
import { MemoryCache } from '../../src/native-free-core/plugins/cache/memory-cache.js'
import { MemoryStorage } from '../../src/native-free-core/plugins/storage/memory-storage.js'
import { LocalStateRegistryFactory } from '../../src/native-free-core/plugins/state-registry/local-state-registry.js'
import { LocalLockRegistry } from '../../src/native-free-core/plugins/locks/local-locks.js'
import { LocalSubscriptionRegistryFactory } from '../../src/native-free-core/plugins/subscription-registry/local-subscription-registry.js'
import { SingleClusterNode } from '../../src/native-free-core/plugins/cluster-node/single-cluster-node.js'
import { SingleClusterRegistry } from '../../src/native-free-core/plugins/cluster-registry/cluster-registry.js'
import { NoopMonitoring } from '../../src/native-free-core/plugins/monitoring/monitoring.js'
import { OpenAuthentication } from '../../src/native-free-core/plugins/auth/open-authentication.js'
import { FileAuthentication } from '../../src/native-free-core/plugins/auth/file-authentication.js'
import { OpenPermission } from '../../src/native-free-core/plugins/permission/permission.js'
import { ValvePermission } from '../../src/native-free-core/plugins/permission/valve/valve-permission.js'
import { PinoLogger } from '../../src/native-free-core/plugins/logger/pino-logger.js'
import { HttpMonitoring } from '../../src/native-free-core/plugins/monitoring/http-monitoring.js'
import { EVENT_ACTION, RECORD_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { validateConfig } from '../../src/index.js'
import {
  authenticationSuite, cacheSuite, clusterSuite, lockRegistrySuite, loggerSuite, monitoringSuite, permissionSuite,
  stateRegistrySuite, storageSuite, subscriptionRegistrySuite,
} from '../../src/conformance/index.js'

const context = { logger: new PinoLogger({ level: 'off' }), serverName: 's', config: validateConfig({}, 't').config, configDir: process.cwd() }

cacheSuite('memory cache', () => new MemoryCache())
storageSuite('memory storage', () => new MemoryStorage())
stateRegistrySuite('local', () => new LocalStateRegistryFactory())
lockRegistrySuite('local', () => new LocalLockRegistry(50))
subscriptionRegistrySuite('local', () => new LocalSubscriptionRegistryFactory({ state: new LocalStateRegistryFactory(), cluster: new SingleClusterNode('s'), monitoring: new NoopMonitoring() }))
clusterSuite('single node', () => new SingleClusterNode('s'), () => new SingleClusterRegistry('s'))
authenticationSuite('none', () => new OpenAuthentication(), { username: 'x' })
authenticationSuite('file', () => new FileAuthentication({ users: { x: { password: 'y' } } }, context), { username: 'x', password: 'y' }, { username: 'x', password: 'wrong' })
permissionSuite('none', () => new OpenPermission(), [
  { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'any', allowed: true },
  { topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: 'any', allowed: true },
])
permissionSuite('valve', () => new ValvePermission({
  permissions: {
    event: { '*': { publish: false }, 'open/*': { publish: true }, 'mine/$who': { publish: 'user.id === $who' } },
    record: { '*': { create: true, write: 'data.ok === true', delete: false } },
  },
}, context), [
  { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'open/a', allowed: true },
  { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'closed/a', allowed: false },
  { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'mine/ada', user: 'ada', allowed: true },
  { topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name: 'mine/ada', user: 'bob', allowed: false },
  { topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: 'r', data: '{"ok":true}', allowed: true },
  { topic: TOPIC.RECORD, action: RECORD_ACTION.UPDATE, name: 'r', data: '{"ok":false}', allowed: false },
  { topic: TOPIC.RECORD, action: RECORD_ACTION.DELETE, name: 'r', allowed: false },
])
loggerSuite('pino', () => new PinoLogger({ level: 'off' }))
monitoringSuite('none', () => new NoopMonitoring())
monitoringSuite('http', () => new HttpMonitoring({ headerValue: 'a-secret-of-this-test' }))

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
authenticationSuite('file', () => new FileAuthentication({ users: { x: { password: 'y' } } }, context), { username: 'x', password: 'y' })
permissionSuite('none', () => new OpenPermission())
permissionSuite('valve', () => new ValvePermission({ permissions: { event: { '*': { publish: true } } } }, context))
loggerSuite('pino', () => new PinoLogger({ level: 'off' }))
monitoringSuite('none', () => new NoopMonitoring())

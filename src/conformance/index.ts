/**
 * The conformance suites every plugin of a kind must pass, for plugin authors (`riptide/conformance`):
 * call one inside a vitest test file with a factory of your plugin, as riptide's own tests do for
 * its built-ins. They need vitest, an optional peer dependency of riptide.
 */
export { cacheSuite, storageSuite } from './cache.suite.js'
export { authenticationSuite, loggerSuite, monitoringSuite, permissionSuite } from './auth-permission.suite.js'
export { clusterSuite, lockRegistrySuite, stateRegistrySuite, subscriptionRegistrySuite } from './registries.suite.js'

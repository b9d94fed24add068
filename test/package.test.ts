/** What `npm pack` puts in the tarball a user installs, and what the package exports for plugin authors. */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import * as riptide from '../src/index.js'

describe('the published package', () => {
  it('holds the built server, its CLI, the shipped config and the docs, and no tests', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>
    const files = pack.files.map((file) => file.path)
    for (const needed of ['dist/src/conformance/index.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/main/cli.js', 'dist/src/client/index.js', 'conf/config.yml', 'conf/permissions.yml', 'README.md']) {
      expect(files).toContain(needed)
    }
    expect(files.filter((file) => file.startsWith('test/') || file.startsWith('dist/test/') || file.startsWith('dist/bench/'))).toEqual([])
  })

  it('exports what a plugin author needs: protocol numbers, the plugin base class, log levels', () => {
    expect(riptide.TOPIC.RECORD).toBe(5)
    expect(riptide.RECORD_ACTION.VERSION_EXISTS).toBe(102)
    expect(riptide.actionName(riptide.TOPIC.RPC, riptide.RPC_ACTION.NO_RPC_PROVIDER)).toBe('NO_RPC_PROVIDER')
    expect(riptide.isErrorMessage({ action: riptide.RPC_ACTION.NO_RPC_PROVIDER })).toBe(true)
    expect(typeof riptide.SimplePlugin).toBe('function')
    expect(riptide.LOG_LEVEL_NUMBERS.off).toBe(100)
  })

  it('exports the conformance suites by package name, for plugin authors\' own tests', async () => {
    const conformance = await import('riptide/conformance')
    expect(Object.keys(conformance).sort()).toEqual([
      'authenticationSuite', 'cacheSuite', 'clusterSuite', 'lockRegistrySuite', 'loggerSuite', 'monitoringSuite',
      'permissionSuite', 'stateRegistrySuite', 'storageSuite', 'subscriptionRegistrySuite',
    ])
  })
})
